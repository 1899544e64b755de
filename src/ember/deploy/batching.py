"""Dynamic micro-batching for a server: concurrent requests share one forward pass.

Each request's inputs wait in a queue; a single worker takes the first, then gathers more until
``max_batch_size`` rows or ``max_wait_ms`` after the first arrived, runs them as one batch in a
thread (the event loop keeps accepting requests), and hands each request its own rows back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import numpy as np

from ember import checks

Predict = Callable[[np.ndarray], np.ndarray]


class MicroBatcher:
    """``await batcher.submit(inputs)`` returns ``predict(inputs)``, computed with other requests'.

    Example:
        >>> calls = []
        >>> batcher = MicroBatcher(lambda x: calls.append(len(x)) or x * 2, max_batch_size=8,
        ...                        max_wait_ms=500)
        >>> async def main():
        ...     batcher.start()
        ...     answers = await asyncio.gather(*(batcher.submit(np.ones((1, 2))) for _ in range(6)))
        ...     await batcher.stop()
        ...     return answers
        >>> [a.tolist() for a in asyncio.run(main())][0], calls
        ([[2.0, 2.0]], [6])
    """

    def __init__(
        self,
        predict: Predict,
        *,
        max_batch_size: int = 32,
        max_wait_ms: float = 5.0,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.predict = predict
        self.max_batch_size = checks.positive_int("max_batch_size", max_batch_size)
        self.max_wait = checks.non_negative_number("max_wait_ms", max_wait_ms) / 1000
        self.on_batch = on_batch  # told each batch's size (a metrics histogram)
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None

    def start(self) -> None:
        """Start the worker on the running event loop."""
        self._queue = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        """Finish what is queued, then stop the worker."""
        if self._queue is not None and self._worker is not None:
            await self._queue.join()
            self._worker.cancel()

    async def submit(self, inputs: np.ndarray) -> np.ndarray:
        """Queue ``inputs`` (a batch of one or more rows); wait for their outputs."""
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((inputs, future))
        return await future

    async def _work(self) -> None:
        while True:
            waiting = [await self._queue.get()]
            rows = len(waiting[0][0])
            deadline = time.monotonic() + self.max_wait
            while rows < self.max_batch_size:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
                waiting.append(item)
                rows += len(item[0])
            try:
                batch = np.concatenate([inputs for inputs, _ in waiting])
                outputs = await asyncio.to_thread(self.predict, batch)
                if self.on_batch is not None:
                    self.on_batch(len(batch))
                start = 0
                for inputs, future in waiting:
                    if not future.done():
                        future.set_result(outputs[start : start + len(inputs)])
                    start += len(inputs)
            except Exception as error:  # every waiting request learns of it; the worker goes on
                for _, future in waiting:
                    if not future.done():
                        future.set_exception(error)
            finally:
                for _ in waiting:
                    self._queue.task_done()
