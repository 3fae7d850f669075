"""The planner's workspace: her own scenario files beside the bundled ones, and "New from …".

*Scenario.* The bundled scenarios (``lang-son-2024`` …) are package data and are never written. A planner who
wants "QR at the counter from July" makes a copy in her workspace (default ``./motcua-workspace/``), edits and runs
it. A copy must still find what the original pointed to by a path relative to its own folder — the fee catalogue
(``payment_system.fee_catalogue``) and the observed series that ``motcua calibrate`` reads
(``observed/<scenario name>.csv``) — so "New from …" rewrites the fee catalogue to the absolute path of the
original's file and copies the observations under the new name. The copy is written with `tomlkit`, so its comments
and ``[provenance]`` stay as they were.
"""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from motcua.atomic import write_text
from motcua.errors import InputError
from motcua.resources import bundled
from motcua.scenario import load_scenario
from motcua.studio.guard import checked_name

MAX_OBSERVED_BYTES = 256 * 1024
"""The largest observations file the page accepts (a province's monthly series for years is a few kilobytes)."""
DEFAULT_WORKSPACE = Path("motcua-workspace")
"""Where a planner's scenarios go unless ``--workspace`` says otherwise."""
OBSERVED = "observed"
"""The folder beside a scenario that holds its observed series (``observed/<name>.csv``)."""


@dataclass(frozen=True)
class ScenarioEntry:
    """One scenario the scenarios page lists."""

    name: str
    """The file's stem, which is also the name pages use for it."""
    path: Path
    bundled: bool
    """A bundled scenario is read-only: the page offers "New from …" instead of editing it."""
    title: str
    problem: str | None = None
    """Why the file does not load, when it does not (it is listed all the same)."""


def observed_beside(scenario_path: Path, name: str) -> Path | None:
    """``observed/<name>.csv`` beside a scenario file, the series ``motcua calibrate`` reads for it, if it exists."""
    path = scenario_path.parent / OBSERVED / f"{name}.csv"
    return path if path.is_file() else None


class Workspace:
    """The planner's folder of scenarios, and the bundled ones beside it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._entries: dict[tuple[Path, int, int], ScenarioEntry] = {}
        """Entries by (file, modification time, size): a file is read again only when it changed."""

    @staticmethod
    def bundled_dir() -> Path:
        return Path(str(bundled("motcua.scenarios")))

    def bundled(self) -> list[ScenarioEntry]:
        return [self._entry(p, True) for p in sorted(self.bundled_dir().glob("*.toml")) if _is_scenario(p)]

    def own(self) -> list[ScenarioEntry]:
        if not self.root.exists():
            return []
        return [self._entry(p, False) for p in sorted(self.root.glob("*.toml")) if _is_scenario(p)]

    def all(self) -> list[ScenarioEntry]:
        return self.own() + self.bundled()

    def find(self, name: str) -> ScenarioEntry:
        """The scenario called `name` (the workspace's first, then the bundled one); `InputError` if none."""
        checked_name(name)
        for folder, is_bundled in ((self.root, False), (self.bundled_dir(), True)):
            path = folder / f"{name}.toml"
            if path.is_file() and _is_scenario(path):
                return self._entry(path, is_bundled)
        raise InputError(f"no scenario {name!r} in {self.root} or among the bundled ones")

    def path_for(self, name: str) -> Path:
        """Where the workspace's scenario `name` is (or would be) written; never a bundled file."""
        path = (self.root / f"{checked_name(name)}.toml").resolve()
        if path.parent != self.root:
            raise InputError(f"{name!r}: not a file of the workspace")
        return path

    def observed_of(self, entry: ScenarioEntry) -> Path | None:
        """The observed series ``motcua calibrate`` reads for `entry` (``observed/<name>.csv`` beside it), if any."""
        return observed_beside(entry.path, entry.name)

    def save_observed(self, name: str, data: bytes) -> int:
        """Check an uploaded observations CSV with the reader ``motcua calibrate`` uses and, when it reads, make it
        ``observed/<name>.csv`` of the workspace's scenario `name`; the number of observations. An `InputError`
        (naming the line, column and value) leaves the previous file as it was."""
        from motcua.models.calibration import read_observed

        if len(data) > MAX_OBSERVED_BYTES:
            raise InputError(f"observations file of {len(data)} bytes: at most {MAX_OBSERVED_BYTES} bytes")
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"observations file: not UTF-8 text (byte {exc.start})") from None
        target = self.root / OBSERVED / f"{checked_name(name)}.csv"
        scenario = load_scenario(self.path_for(name))
        target.parent.mkdir(parents=True, exist_ok=True)
        upload = target.with_name(f".{target.name}.upload")
        upload.write_bytes(data.removeprefix(b"\xef\xbb\xbf"))
        try:
            count = len(read_observed(upload, scenario))
        except InputError:
            upload.unlink()
            raise
        upload.replace(target)
        return count

    def new_from(self, source: str, name: str) -> Path:
        """Copy scenario `source` into the workspace as `name`, its references resolving from the new folder."""
        origin = self.find(source)
        target = self.path_for(name)
        if target.exists():
            raise InputError(f"{target.name} already exists in the workspace; choose another name")
        doc = tomlkit.parse(origin.path.read_text(encoding="utf-8"))
        doc["scenario"]["name"] = name
        payment = doc.get("payment_system")
        if payment is not None and "fee_catalogue" in payment:
            catalogue = Path(str(payment["fee_catalogue"]))
            if not catalogue.is_absolute():
                payment["fee_catalogue"] = str((origin.path.parent / catalogue).resolve())
        observed = origin.path.parent / OBSERVED / f"{origin.name}.csv"
        self.root.mkdir(parents=True, exist_ok=True)
        if observed.is_file():
            (self.root / OBSERVED).mkdir(exist_ok=True)
            shutil.copyfile(observed, self.root / OBSERVED / f"{name}.csv")
        write_text(target, tomlkit.dumps(doc), exclusive=True)
        load_scenario(target)  # the copy is valid, or this says why
        return target

    def _entry(self, path: Path, is_bundled: bool) -> ScenarioEntry:
        stat = path.stat()
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in self._entries:
            self._entries[key] = self._read_entry(path, is_bundled)
        return self._entries[key]

    def _read_entry(self, path: Path, is_bundled: bool) -> ScenarioEntry:
        try:
            scenario = load_scenario(path)
        except InputError as exc:
            return ScenarioEntry(path.stem, path, is_bundled, path.stem, problem=str(exc))
        return ScenarioEntry(path.stem, path, is_bundled, scenario.scenario.title)


def _is_scenario(path: Path) -> bool:
    """A TOML file with a ``[scenario]`` table (not the fee catalogue); a broken file counts, to show its error."""
    try:
        return "scenario" in tomllib.loads(path.read_text(encoding="utf-8"))
    except Exception:  # any unreadable file is listed with its error by load_scenario
        return True
