"""Where the bundled data files are.

Scenarios, the fee catalogue, the bank catalogue and the check's fault file are package data of the
``motcua`` distribution, found through :mod:`importlib.resources`, so an installed wheel finds them
exactly as an editable checkout does, whatever the working folder.
"""

from importlib.resources import files
from pathlib import Path


def bundled(package: str, *parts: str) -> Path:
    """The path of a file or folder shipped in ``package``: ``bundled("motcua.scenarios", "peak-day.toml")``.

    The distribution is installed as folders (never zipped), so the resource is a real path on disk.
    """
    return Path(str(files(package).joinpath(*parts)))
