"""SQLite in WAL mode with group commit: many requests share one durable commit.

Each service keeps its ledger in one SQLite file in its data directory. The database is opened in
WAL mode with ``synchronous=NORMAL``: a commit is written to the write-ahead log before it returns,
so it survives a kill -9 of the process (the operating system still holds the data); only a power
loss could lose the last commits, which does not happen to a test machine's loopback services.

A commit per request would cap a service at a few thousand writes per second. `Database.transact`
instead queues a unit of work; all units queued during one turn of the event loop run in ONE
transaction, and then one COMMIT makes them all durable. If a unit raises, the batch is rolled back
and run again with a SAVEPOINT around each unit, so the failing unit alone is undone and its caller
gets the exception. Each caller's ``await`` returns only after that commit: a request
is acknowledged only when its write is on disk.

Everything runs on the event-loop thread (no thread hops): SQLite in WAL mode with
``synchronous=NORMAL`` commits in tens of microseconds, cheaper than a hand-off to a thread. The one
slow operation, the checkpoint that copies the WAL back into the database file (and fsyncs it), is
taken off the event loop: automatic checkpoints are switched off and a background thread with its
own connection runs a PASSIVE checkpoint every `checkpoint_every_s` seconds (it never blocks the writer).
A busy writer would starve the WAL of restarts (SQLite rewinds it only when a write begins with every
frame already copied back, which a checkpoint racing the writer never achieves), and the file would grow
by ~18 KB per payment without end. So once the WAL passes `wal_limit_bytes`, the writes pause (units
queue, the event loop keeps serving) while a worker thread copies every frame back (~10–20 ms); the
next commit then rewinds the WAL, and ``journal_size_limit`` trims the file.

Public API::

    db = Database(path, schema_sql, linger_s=0.0)   # opens, sets WAL, creates the schema
                                             # linger_s: wait that long for more units before committing
    rows = db.query("SELECT ... WHERE id = ?", (pid,))   # committed data, list of sqlite3.Row
    row = db.query_one(...)                  # first row or None
    result = await db.transact(lambda conn: ...)          # runs in the next group commit, returns fn's value
    db.execute_now("UPDATE ...", params)     # a single statement committed at once (start-up work only)
    db.close()
    db.stats  # {"commits", "units", "slow_batches", "wal_rewinds"}: units / commits is the batching factor

A unit of work is a plain function ``fn(conn) -> value``; units run one after another, so a unit may
read, decide and write without races (check an idempotency key, then insert). A unit must change
nothing but the database (no appends to Python lists, no I/O): it may run twice when another unit of
its batch fails.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

Unit = Callable[[sqlite3.Connection], Any]


class Database:
    """One SQLite file opened in WAL mode, with a group-commit writer on the running event loop."""

    def __init__(
        self, path: str | Path, schema: str = "", *, max_batch: int = 2000, linger_s: float = 0.0,
        checkpoint_every_s: float = 1.0, wal_limit_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves; check_same_thread off so tests may
        # read from another thread, but all writes happen on the event-loop thread.
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=5000")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer thread does it, off the event loop
        self.conn.execute(f"PRAGMA journal_size_limit={int(wal_limit_bytes)}")  # a rewound WAL is trimmed to it
        self.wal_limit_bytes = wal_limit_bytes
        self._rewind_wal = threading.Event()  # set by the checkpointer: the WAL is over its limit
        if schema:
            self.conn.executescript(schema)
        self.max_batch = max_batch
        self.linger_s = linger_s
        self._closing = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_forever, args=(checkpoint_every_s,), name=f"checkpoint {self.path.name}",
            daemon=True,
        )
        self._checkpointer.start()
        self._pending: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._scheduled = False
        self.stats = {"commits": 0, "units": 0, "slow_batches": 0, "wal_rewinds": 0}

    # ---- reads

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def query_one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, tuple(params)).fetchone()

    # ---- writes

    def transact(self, unit: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Queue `unit` for the next group commit; the future resolves after the COMMIT."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((unit, future))
        if not self._scheduled:
            self._scheduled = True
            # Every handler that becomes ready in this loop turn (or within linger_s) joins the same commit.
            if self.linger_s > 0:
                loop.call_later(self.linger_s, self._flush)
            else:
                loop.call_soon(self._flush)
        return future

    def execute_now(self, sql: str, params: Iterable[Any] = ()) -> None:
        """Run one statement in its own transaction at once (start-up and maintenance only)."""
        self.conn.execute(sql, tuple(params))

    def _flush(self) -> None:
        self._scheduled = False
        if self._rewind_wal.is_set():
            self._pause_for_rewind()
            return
        batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
        if self._pending:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)
        conn = self.conn
        try:
            results = self._run_batch(conn, batch)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:  # the commit itself failed: nothing in this batch is durable
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.stats["commits"] += 1
        self.stats["units"] += len(batch)
        for future, ok, value in results:
            if future.done():  # the caller was cancelled (client went away); the write stands
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _run_batch(self, conn: sqlite3.Connection, batch: list[tuple[Unit, asyncio.Future[Any]]]) -> list[Any]:
        """Run the batch in one open transaction; the caller commits.

        Fast path: every unit straight after the other. If one raises, the whole transaction is rolled
        back and the batch runs again with a SAVEPOINT around each unit, so only the failing one is undone
        (units only touch the database, so running one twice is harmless).
        """
        conn.execute("BEGIN IMMEDIATE")
        results: list[tuple[asyncio.Future[Any], bool, Any]] = []
        try:
            for unit, future in batch:
                results.append((future, True, unit(conn)))
            return results
        except Exception:
            conn.execute("ROLLBACK")
        self.stats["slow_batches"] += 1
        conn.execute("BEGIN IMMEDIATE")
        return [(future, *self._run_unit(conn, unit)) for unit, future in batch]

    @staticmethod
    def _run_unit(conn: sqlite3.Connection, unit: Unit) -> tuple[bool, Any]:
        conn.execute("SAVEPOINT unit")
        try:
            value = unit(conn)
        except Exception as exc:  # roll back this unit only; report the error to its caller
            conn.execute("ROLLBACK TO unit")
            conn.execute("RELEASE unit")
            return False, exc
        conn.execute("RELEASE unit")
        return True, value

    async def drain(self) -> None:
        """Wait until everything queued so far is committed."""
        while self._pending or self._scheduled:
            await asyncio.sleep(0)

    def close(self) -> None:
        if self._pending:
            # Commit what is queued rather than drop acknowledged-to-be work silently.
            self._flush_sync_remaining()
        self._closing.set()
        self._checkpointer.join(5)
        self.conn.close()

    def _pause_for_rewind(self) -> None:
        """Hold the writes while a worker thread copies every WAL frame back; then flush what queued."""
        self._rewind_wal.clear()
        self._scheduled = True  # units queue meanwhile, and schedule no flush of their own
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, self._checkpoint_everything).add_done_callback(self._resume_after_rewind)

    def _checkpoint_everything(self) -> bool:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            busy, log_frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:  # e.g. the checkpointer thread holds the checkpoint lock: it asks again later
            return False
        finally:
            conn.close()
        return busy == 0 and log_frames == copied

    def _resume_after_rewind(self, done: asyncio.Future[bool]) -> None:
        if not done.cancelled() and done.exception() is None and done.result():
            self.stats["wal_rewinds"] += 1  # the next commit starts the WAL from its beginning
        self._scheduled = False
        if self._pending:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _checkpoint_forever(self, every_s: float) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        wal = self.path.with_name(self.path.name + "-wal")
        try:
            while not self._closing.wait(every_s):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:  # busy or closing: the next round tries again
                    continue
                try:
                    if wal.stat().st_size > self.wal_limit_bytes:
                        self._rewind_wal.set()
                except OSError:
                    continue
        finally:
            conn.close()

    def _flush_sync_remaining(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            self.conn.execute("BEGIN IMMEDIATE")
            for unit, _future in batch:
                self._run_unit(self.conn, unit)
            self.conn.execute("COMMIT")
