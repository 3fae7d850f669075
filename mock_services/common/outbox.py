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
import heapq
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("motcua.mock_services.outbox")


class DelayQueue:
    """Calls ``deliver(key)`` for each scheduled key once its due time has come.

    No task sits waiting: a key that is already due starts at once (when a slot is free); later keys
    wait in a heap behind one timer (`loop.call_at`) set for the earliest of them.
    """

    def __init__(self, deliver: Callable[[str], Awaitable[None]], *, concurrency: int = 256) -> None:
        self.deliver = deliver
        self.concurrency = concurrency
        self._heap: list[tuple[float, str]] = []
        self._keys: set[str] = set()  # waiting or in flight
        self._running: set[asyncio.Task[None]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False

    def __len__(self) -> int:
        return len(self._keys)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = False
        self._release_due()

    def schedule(self, key: str, due_at: float) -> None:
        if key in self._keys:
            return
        self._keys.add(key)
        heapq.heappush(self._heap, (due_at, key))
        if self._loop is not None:
            self._release_due()

    async def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    def _release_due(self) -> None:
        """Start every due key while slots are free; set the timer for the next one."""
        if self._stopped:
            return
        now = time.time()
        heap = self._heap
        while heap and heap[0][0] <= now and len(self._running) < self.concurrency:
            _, key = heapq.heappop(heap)
            task = self._loop.create_task(self._attempt(key))  # type: ignore[union-attr]
            self._running.add(task)
            task.add_done_callback(self._finished)
        if heap and len(self._running) < self.concurrency:
            due = heap[0][0]
            if due < self._timer_at:
                if self._timer is not None:
                    self._timer.cancel()
                self._timer_at = due
                self._timer = self._loop.call_at(  # type: ignore[union-attr]
                    self._loop.time() + max(due - now, 0.0), self._on_timer  # type: ignore[union-attr]
                )

    def _on_timer(self) -> None:
        self._timer, self._timer_at = None, float("inf")
        self._release_due()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if self._heap and not self._stopped:
            self._release_due()  # a slot is free: a due key may start

    async def _attempt(self, key: str) -> None:
        # The key leaves the set first so that `deliver` may schedule the next attempt itself.
        self._keys.discard(key)
        try:
            await self.deliver(key)
        except asyncio.CancelledError:
            raise
        except Exception:  # one bad delivery must not stop the others; the row stays pending
            log.exception("delivery of %s failed", key)
