"""Schemathesis fuzzing of the mock services past their signatures.

Every operation each service's ``/openapi.json`` publishes is fuzzed with Schemathesis (v4) cases,
both schema-valid (positive) and schema-invalid (negative). Each request is signed with the published
TEST key of the caller that route expects (`key_for`) and carries the admin token where the route
declares the ``X-Admin-Token`` header, so the cases reach the handlers' own validation instead of
stopping at 401/403. Per case the checks are:

- Schemathesis's: no 5xx; status code, content type and body conform to the document; a negative case
  is refused with a 4xx;
- positive cases are accepted: 2xx, or 404/409 (an id that does not exist, a state that forbids the
  move). 401/403 never (the case was signed); another 4xx only where the contract refuses a schema-valid
  request on purpose (`REFUSALS_OF_VALID`: rules across fields, the always-wrong OTP). Before sending, a
  positive case gets what a real caller holds and JSON Schema cannot say (`CREDENTIALS`: a genuine charge
  token, a dossier code of the named agency, the merchant's terminal code); the IPN, which the contract
  answers 200 with an RspCode whatever it holds, is judged on its RspCode (`check_ipn_answer`);
- a refused request (4xx) changes nothing: the three services' ``/stats`` and every row of their
  SQLite databases are the same before and after, except what a background job did meanwhile
  (the gateway's expiry sweep) and what the contract says a refusal leaves (`REFUSAL_LEAVES`).

`FuzzRun.fuzz(service, path, method, examples)` runs one operation and counts the cases.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from motcua.mock_services.common import signing
from motcua.mock_services.common.charge_token import ChargeClaims, make_charge_token
from motcua.mock_services.common.http import ADMIN_TOKEN_HEADER, TEST_ADMIN_TOKEN
from motcua.mock_services.common.vnpay_terminals import DEFAULT_TERMINALS, load_terminals
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]
SERVICES = ("gateway", "bank", "agency")
FOREIGN_SIGNATURES = ("vnp_SecureHash",)
"""Signature fields of schemes the harness does not sign with; operations that carry one are fuzzed for
no 5xx and conformance only (their own tests sign them)."""
FRAMING_HEADERS = {"transfer-encoding", "content-length", "host", "connection", "expect", "upgrade", "te"}
"""Headers a negative case may invent that set the HTTP framing: aiohttp's parser refuses a bad one with a
plain-text 400 before any route runs, so they test aiohttp, not the documents (left out of every case)."""
SIGNER_OF = {"gateway": "agency", "bank": "gateway", "agency": "gateway"}
"""Who signs the signed routes of each service (docs/contracts.md §1), unless `SIGNER_OF_PATH` says."""
SIGNER_OF_PATH = {("gateway", "/bank-notifications"): "bank"}
ACCEPTED = {200, 201, 404, 409}
"""What a schema-valid, correctly signed request may get: done, or an id/state the request cannot know."""
REFUSALS_OF_VALID: dict[tuple[str, str], tuple[tuple[int, str], ...]] = {
    # rules across fields, which JSON Schema cannot say, by (status, the error's field):
    ("gateway", "PUT /admin/faults"): ((422, "max_ms"), (422, "p95_ms"), (422, "p50_ms")),  # bounds in order
    ("bank", "PUT /admin/faults"): ((422, "max_ms"), (422, "p95_ms"), (422, "p50_ms")),
    ("agency", "PUT /admin/faults"): ((422, "max_ms"), (422, "p95_ms"), (422, "p50_ms")),
    ("bank", "POST /charge"): ((422, "bank_code"),  # the token names the bank the citizen chose at checkout
                               (400, "otp")),  # 000000 is the always-wrong OTP (a refusal, not a bad request)
    ("bank", "POST /vietqr/pay"): ((422, "payload"),),  # a payload's CRC and tags: a checksum JSON Schema cannot say
}
"""Schema-valid requests the contract still refuses: (service, operation) → (status, error field)."""
def check_ipn_answer(mode: GenerationMode, signed: bool, response: requests.Response) -> None:
    """The IPN contract answers every delivery 200 with an RspCode: a schema-valid signed IPN is judged on
    its content (00/01/02/04), never refused as unsigned or ill-typed; a schema-invalid one is refused with
    97 (unsigned), 99 (ill-typed fields) or 400 (not a JSON object)."""
    if response.status_code != 200:
        assert mode is GenerationMode.NEGATIVE and response.status_code in (400, 413), response.text
        return
    code = _json(response).get("RspCode")
    if mode is GenerationMode.POSITIVE:
        assert code in ("00", "01", "02", "04"), f"a signed, schema-valid IPN got {response.text}"
    else:
        assert code in ("97", "99") or (not signed and code == "97"), f"a schema-invalid IPN got {response.text}"


EXCLUDED_CHECKS = {("agency", "POST /ipn"): (negative_data_rejection,)}
"""Schemathesis checks a route's contract replaces with its own (`ANSWER_CHECKS`)."""
ANSWER_CHECKS: dict[tuple[str, str], Callable[[GenerationMode, bool, requests.Response], None]] = {
    ("agency", "POST /ipn"): check_ipn_answer,
}
BACKGROUND_COLUMNS = {
    ("gateway", "payments"): {"state"},
    ("bank", "charges"): {"notify_status", "notify_attempts", "notify_at", "notified_at", "last_error"},
}
"""Columns background jobs change by themselves (the expiry sweep; the bank's notification outbox)."""
BACKGROUND_STATS = {"gateway": ("by_state",), "bank": ("notify", "notify_attempts")}
"""The /stats fields those jobs move."""
REFUSAL_LEAVES: dict[tuple[str, str], set[str]] = {
    # "nothing filed; the daily number is used up" (contracts §1): the gateway's refusal keeps the number taken
    ("agency", "POST /dossiers"): {"agency.day_sequence"},
}


def charge_token_for(body: Any) -> Any:
    """A genuine charge token (signed with the published TEST gateway key) for the bank the body names,
    in place of the random one, so that ``POST /charge`` is fuzzed past the token check."""
    if not isinstance(body, dict) or not isinstance(body.get("bank_code"), str):
        return body
    seed = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    claims = ChargeClaims(payment_id="PAYFUZZ" + seed[:12].upper(), amount_vnd=1000 + int(seed[12:18], 16),
                          bank_code=body["bank_code"], return_url="http://127.0.0.1:9/return",
                          expires_at=time.time() + 600)
    return {**body, "charge_token": make_charge_token(claims, signing.TEST_KEYS["gateway"], int(time.time()))}


def dossier_of_the_agency(body: Any) -> Any:
    """The dossier code rewritten to begin with the body's agency code (a rule across two fields)."""
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("agency_code", "dossier_code")):
        return body
    code, agency = body["dossier_code"], body["agency_code"]
    return {**body, "dossier_code": agency + code[len(agency):]} if len(code) > len(agency) else body


def a_terminal_of_the_gateway(body: Any) -> Any:
    """Every other body (by a hash of its ``tmn_code``) names the gateway's TEST terminal, which its merchant
    knows, so that the bank list is fuzzed to its answer (200) as well as to an unknown terminal (404)."""
    if not isinstance(body, dict) or not isinstance(body.get("tmn_code"), str):
        return body
    if hashlib.sha256(body["tmn_code"].encode()).digest()[0] % 2:
        return body
    return {**body, "tmn_code": next(iter(load_terminals(DEFAULT_TERMINALS)))}


CREDENTIALS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("bank", "POST /charge"): charge_token_for,
    ("gateway", "POST /payments"): dossier_of_the_agency,
    ("gateway", "POST /qrpayauth/api/merchant/get_bank_list"): a_terminal_of_the_gateway,
}
"""Set on every positive case: credentials a route takes in its body rather than in headers, and rules across
fields JSON Schema cannot say, so that schema-valid cases reach the handler's business logic."""


def key_for(service: str, path: str) -> str:
    return SIGNER_OF_PATH.get((service, path), SIGNER_OF[service])


class Signer(requests.auth.AuthBase):
    """Signs the prepared request (its exact body bytes and request target) with one TEST key."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        r.headers.update(signing.sign(self.key_id, signing.TEST_KEYS[self.key_id], r.method or "GET",
                                      r.path_url, body))
        return r


# ---------------------------------------------------------------------- state snapshots


Rows = dict[str, dict[int, tuple[Any, ...]]]


def db_rows(path: Path) -> Rows:
    """Every row of every table of one SQLite database, by table and rowid (read-only)."""
    if not path.exists():
        return {}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: {r[0]: r[1:] for r in conn.execute(f'SELECT rowid, * FROM "{t}"')} for t in tables}
    finally:
        conn.close()


def _columns(path: Path, table: str) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
    finally:
        conn.close()


@dataclass
class Snapshot:
    stats: dict[str, Any]
    rows: dict[str, Rows]


def changed_tables(before: Snapshot, after: Snapshot, background: Callable[[str, str, tuple, tuple], bool]
                   ) -> tuple[set[str], bool]:
    """The ``service.table`` names whose rows differ, ignoring changes `background` explains; and whether
    any background change was seen."""
    changed, seen_background = set(), False
    for service in after.rows:
        for table in set(before.rows.get(service, {})) | set(after.rows[service]):
            old, new = before.rows.get(service, {}).get(table, {}), after.rows[service].get(table, {})
            for rowid in set(old) | set(new):
                a, b = old.get(rowid), new.get(rowid)
                if a == b:
                    continue
                if a is not None and b is not None and background(service, table, a, b):
                    seen_background = True
                    continue
                changed.add(f"{service}.{table}")
    return changed, seen_background


def stable_stats(service: str, stats: Mapping[str, Any], *, background: bool) -> dict[str, Any]:
    """A service's /stats without what changes by itself: commit counters; what a background job moved."""
    drop = {"db", *(BACKGROUND_STATS.get(service, ()) if background else ())}
    return {k: v for k, v in stats.items() if k not in drop}


# ---------------------------------------------------------------------- the fuzzing run


@dataclass
class FuzzRun:
    """Fuzzes the operations of three running services and keeps the counts."""

    urls: Mapping[str, str]
    data_dir: Path
    counts: Counter = field(default_factory=Counter)
    """(service, operation, mode) → cases sent."""
    statuses: Counter = field(default_factory=Counter)
    """(service, operation, mode, status) → cases."""
    refused_checked: int = 0
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.schemas, self.docs = {}, {}
        for name, url in self.urls.items():
            self.docs[name] = requests.get(url + "/openapi.json", timeout=10).json()
            self.schemas[name] = schemathesis.openapi.from_dict(self.docs[name])
        self._columns: dict[tuple[str, str], list[str]] = {}
        self._foreign_ops: dict[tuple[str, str, str], bool] = {}
        self.last: Snapshot | None = None

    def db_path(self, service: str) -> Path:
        return self.data_dir / f"{service}.sqlite"

    def snapshot(self) -> Snapshot:
        """/stats and the databases at one moment: the rows read before and after the stats agree."""
        rows = {name: db_rows(self.db_path(name)) for name in self.urls}
        for _ in range(20):
            stats = {name: self.session.get(url + "/stats", timeout=10).json() for name, url in self.urls.items()}
            again = {name: db_rows(self.db_path(name)) for name in self.urls}
            if again == rows:
                break
            rows = again
            time.sleep(0.05)
        return Snapshot(stats, rows)

    def _background(self, service: str, table: str, a: tuple, b: tuple) -> bool:
        """A change a background job makes by itself: the gateway's expiry sweep (created → expired) or the
        bank's notification outbox (its notify_* columns)."""
        allowed = BACKGROUND_COLUMNS.get((service, table))
        if not allowed:
            return False
        columns = self._columns.setdefault((service, table), _columns(self.db_path(service), table))
        moved = {columns[i] for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y}
        if not moved <= allowed:
            return False
        return service != "gateway" or (a[columns.index("state")], b[columns.index("state")]) == ("created",
                                                                                                   "expired")

    def fuzz(self, service: str, path: str, method: str, examples: int, *, round_: int = 0) -> int:
        """Send up to `examples` positive and as many negative cases to one operation; return how many.

        An operation that takes the admin token gets its negative cases twice: with the token (so that the
        schema-invalid part is the body or a parameter, and the handler's own validation must refuse it) and
        with a generated one (refused 401). Round 0 is derandomized (the same cases every run); round N draws
        other cases with seed N."""
        op = self.schemas[service][path][method]
        label = f"{method} {path}"
        start = sum(n for (sv, lb, _m), n in self.counts.items() if (sv, lb) == (service, label))
        fixed = self._fixed_headers(op)
        runs = [(GenerationMode.POSITIVE, fixed), (GenerationMode.NEGATIVE, fixed)]
        if fixed is not None:
            runs.append((GenerationMode.NEGATIVE, None))
        for mode, headers in runs:
            try:
                strategy = op.as_strategy(generation_mode=mode, headers=headers)
            except Unsatisfiable:
                continue
            with contextlib.suppress(Unsatisfiable):
                self._run_mode(service, label, op, strategy, mode, examples, round_)
        return sum(n for (sv, lb, _m), n in self.counts.items() if (sv, lb) == (service, label)) - start

    def _run_mode(self, service: str, label: str, op: Any, strategy: Any, mode: GenerationMode, examples: int,
                  round_: int) -> None:
        @seed(round_)
        @settings(max_examples=examples, deadline=None, database=None, derandomize=round_ == 0,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case: Any) -> None:
            self._one(service, label, op, case, mode)

        run()

    def _fixed_headers(self, op: Any) -> dict[str, str] | None:
        names = {p.name for p in op.headers} if op.headers else set()
        return {ADMIN_TOKEN_HEADER: TEST_ADMIN_TOKEN} if ADMIN_TOKEN_HEADER in names else None

    def _one(self, service: str, label: str, op: Any, case: Any, mode: GenerationMode) -> requests.Response:
        before = self.last or self.snapshot()
        if case.body is not None and not isinstance(case.body, bytes | str):
            case.body = whole_numbers(case.body)
        if case.headers:  # framing headers are the HTTP layer's, not the API's (aiohttp answers them in plain text)
            case.headers = {k: v for k, v in case.headers.items() if k.lower() not in FRAMING_HEADERS}
        credential = CREDENTIALS.get((service, label))
        if credential is not None and mode is GenerationMode.POSITIVE:
            case.body = credential(case.body)
        # Schemathesis fills the apiKey header of a signed route; a negative case may leave it out on purpose,
        # and is then sent unsigned (→ 401).
        signed = signing.HEADER_SIGNATURE in (case.headers or {})
        auth = Signer(key_for(service, op.path)) if signed else None
        response = case.call(base_url=self.urls[service], session=self.session, auth=auth, timeout=30)
        self.counts[(service, label, mode.value)] += 1
        self.statuses[(service, label, mode.value, response.status_code)] += 1
        if op.path == "/admin/faults" and op.method.upper() == "PUT" and response.status_code == 200:
            self._clear_faults(service)
        foreign = self._foreign(service, op)
        excluded = (negative_data_rejection,) if foreign else EXCLUDED_CHECKS.get((service, label), ())
        checks = [c for c in CHECKS if c not in excluded]
        case.validate_response(response, checks=checks, transport_kwargs={
            "base_url": self.urls[service], "session": self.session, "auth": auth})
        answer_check = ANSWER_CHECKS.get((service, label))
        if answer_check is not None:
            answer_check(mode, signed, response)
        if mode is GenerationMode.POSITIVE and not foreign:
            self._check_accepted(service, label, response)
        self.last = after = self.snapshot()
        if 400 <= response.status_code < 500:
            self._check_unchanged(service, label, response, before, after)
        return response

    def _foreign(self, service: str, op: Any) -> bool:
        """Whether the operation is signed by a scheme this harness does not produce (VNPay's vnp_SecureHash):
        its cases are checked for no 5xx and conformance only, not for acceptance or rejection."""
        key = (service, op.method.upper(), op.path)
        if key not in self._foreign_ops:
            text = _text_with_refs(self.docs[service], self.docs[service]["paths"][op.path][op.method.lower()])
            self._foreign_ops[key] = any(word in text for word in FOREIGN_SIGNATURES)
        return self._foreign_ops[key]

    def _clear_faults(self, service: str) -> None:
        r = self.session.put(self.urls[service] + "/admin/faults", json={},
                             headers={ADMIN_TOKEN_HEADER: TEST_ADMIN_TOKEN}, timeout=10)
        assert r.status_code == 200, r.text

    def _check_accepted(self, service: str, label: str, response: requests.Response) -> None:
        status = response.status_code
        if status in ACCEPTED:
            return
        got = str(_json(response).get("field", ""))
        for code, name in REFUSALS_OF_VALID.get((service, label), ()):
            if status == code and (got == name or got.endswith("." + name)):
                return
        raise AssertionError(f"{service} {label}: a schema-valid, signed request was refused with {status}: "
                             f"{response.text[:400]}\nrequest: {response.request.method} {response.request.url} "
                             f"{(response.request.body or b'')[:400]!r}")

    def _check_unchanged(self, service: str, label: str, response: requests.Response, before: Snapshot,
                         after: Snapshot) -> None:
        self.refused_checked += 1
        changed, background = changed_tables(before, after, self._background)
        changed -= REFUSAL_LEAVES.get((service, label), set())
        assert not changed, (f"{service} {label} answered {response.status_code} but changed {sorted(changed)}: "
                             f"{response.text[:300]}")
        if (service, label) in REFUSAL_LEAVES:
            return
        for name in self.urls:
            old = stable_stats(name, before.stats[name], background=background)
            new = stable_stats(name, after.stats[name], background=background)
            assert old == new, f"{service} {label} answered {response.status_code} but {name}/stats moved"

    def table(self) -> str:
        """The counts as text: one line per service and operation, positive + negative."""
        lines, totals = [], Counter()
        by_op: dict[tuple[str, str], dict[str, int]] = {}
        for (service, label, mode), n in sorted(self.counts.items()):
            by_op.setdefault((service, label), {})[mode] = n
            totals[service] += n
        for (service, label), modes in by_op.items():
            merged: Counter = Counter()
            for (sv, lb, _m, s), n in self.statuses.items():
                if (sv, lb) == (service, label):
                    merged[s] += n
            lines.append(f"{service:8} {label:45} positive {modes.get('positive', 0):5} "
                         f"negative {modes.get('negative', 0):5}  "
                         f"statuses {dict(sorted(merged.items()))}")
        lines += [f"{service:8} TOTAL {n} cases" for service, n in sorted(totals.items())]
        lines.append(f"refused requests checked to change nothing: {self.refused_checked}")
        return "\n".join(lines)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"counts": [[*k, v] for k, v in sorted(self.counts.items())],
                                    "statuses": [[*k, v] for k, v in sorted(self.statuses.items())],
                                    "refused_checked": self.refused_checked, "at": time.time()}, indent=1))


def _text_with_refs(doc: Mapping[str, Any], node: Any, seen: set[str] | None = None) -> str:
    """The JSON text of `node` and of every component it refers to (``$ref``), transitively."""
    seen = set() if seen is None else seen
    text = json.dumps(node)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)) - seen:
        seen.add(ref)
        text += _text_with_refs(doc, doc["components"]["schemas"].get(ref, {}), seen)
    return text


def whole_numbers(value: Any) -> Any:
    """`value` with every float that has no fraction written as an integer.

    JSON Schema counts 5.0 as an integer; the mocks do not (money is whole VND, written without a decimal
    point: ``200000.0`` → 422). Both are the same JSON Schema value, so a case means the same either way.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
