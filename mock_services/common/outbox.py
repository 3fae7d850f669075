"""A delay queue for durable outboxes: "deliver this key at that wall-clock time", with bounded concurrency.

The gateway's IPN outbox and the bank's notification outbox keep their rows in SQLite (so pending
deliveries survive a restart); this queue only decides WHEN to attempt each one. A service
schedules a key after the row is committed, re-schedules every pending row when it starts, and its
`deliver` coroutine makes one attempt and schedules the next one if needed::

    queue = DelayQueue(deliver, concurrency=256)     # deliver(key) -> awaitable
    queue.start()                                    # on the running loop
    queue.schedule("pay-1", due_at=time.time() + 5)  # wall-clock seconds (survives restarts in the DB)
    await queue.stop()

A key that is already waiting or being delivered is not queued twice (the earlier due time wins).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("mock_services.outbox")


class DelayQueue:
    """Calls ``deliver(key)`` for each scheduled key once its due time has come."""

    def __init__(self, deliver: Callable[[str], Awaitable[None]], *, concurrency: int = 256) -> None:
        self.deliver = deliver
        self.concurrency = concurrency
        self._heap: list[tuple[float, str]] = []
        self._keys: set[str] = set()  # waiting or in flight
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._keys)

    def schedule(self, key: str, due_at: float) -> None:
        if key in self._keys:
            return
        self._keys.add(key)
        heapq.heappush(self._heap, (due_at, key))
        if self._heap[0][1] == key:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            now = time.time()
            while self._heap and self._heap[0][0] <= now:
                await self._slots.acquire()
                _, key = heapq.heappop(self._heap)
                task = asyncio.get_running_loop().create_task(self._attempt(key))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            self._wake.clear()
            timeout = (self._heap[0][0] - time.time()) if self._heap else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def _attempt(self, key: str) -> None:
        try:
            # The key leaves the set first so that `deliver` may schedule the next attempt itself.
            self._keys.discard(key)
            await self.deliver(key)
        except asyncio.CancelledError:
            raise
        except Exception:  # one bad delivery must not stop the others; the row stays pending
            log.exception("delivery of %s failed", key)
        finally:
            self._slots.release()
