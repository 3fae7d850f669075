"""The group-commit database: an acknowledged write survives kill -9 of the process that made it."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WRITER = """
import asyncio, sys
sys.path.insert(0, {root!r})
from motcua.mock_services.common.db import Database

async def main():
    db = Database({path!r}, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)", linger_s=0.001)
    async def one(i):
        await db.transact(lambda c: c.execute("INSERT INTO t VALUES (?, ?)", (i, "x" * 100)))
        print(i, flush=True)   # acknowledged only now, after the commit
    await asyncio.gather(*(one(i) for i in range(20_000)))

asyncio.run(main())
"""


def test_acknowledged_writes_survive_kill_9(tmp_path):
    path = tmp_path / "t.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", WRITER.format(root=str(ROOT), path=str(path))],
                            stdout=subprocess.PIPE, text=True)
    acknowledged = []
    for line in proc.stdout:
        acknowledged.append(int(line))
        if len(acknowledged) == 3000:
            proc.send_signal(signal.SIGKILL)  # in the middle of the stream of commits
            break
    proc.wait(10)
    acknowledged += [int(line) for line in proc.stdout.read().split()]  # what was printed before the kill
    conn = sqlite3.connect(path)
    stored = {row[0] for row in conn.execute("SELECT id FROM t")}
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert set(acknowledged) <= stored
    assert len(stored) < 20_000  # it really was killed mid-way


def test_wal_of_a_writer_that_never_pauses_is_rewound_and_stays_bounded(tmp_path):
    # Without the rewind the WAL of a busy writer only grows: here ~6 MB of WAL for 0.6 MB of rows.
    import asyncio

    from motcua.mock_services.common.db import Database

    limit = 256 * 1024

    async def main() -> Database:
        db = Database(tmp_path / "w.sqlite", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)",
                      checkpoint_every_s=0.02, wal_limit_bytes=limit)
        for i in range(0, 6000, 20):  # one commit per batch of 20, back to back
            await asyncio.gather(*(db.transact(lambda c, j=j: c.execute("INSERT INTO t VALUES (?, ?)", (j, "x" * 100)))
                                   for j in range(i, i + 20)))
            await asyncio.sleep(0.001)
        await db.drain()
        return db

    db = asyncio.run(main())
    wal_size = (tmp_path / "w.sqlite-wal").stat().st_size
    rows = db.query_one("SELECT count(*), count(DISTINCT id) FROM t")
    db.close()
    assert tuple(rows) == (6000, 6000)  # nothing lost or doubled by the pauses
    assert db.stats["wal_rewinds"] >= 1
    assert wal_size < 4 * limit, f"WAL is {wal_size} bytes with a {limit}-byte limit"
