"""A process-wide memory budget for expensive work: callers reserve bytes before they spend them.

Decoding untrusted media costs memory in proportion to what the file *declares* (pixels, frames,
colour mode), not to its size: a 47 KB PNG can declare 7000 x 7000 pixels. The decoders estimate
the cost from the headers (``rempart.signals.decode.image_cost``, ``video.video_cost``) and
reserve it here before decoding a pixel; the reservation is returned when the work ends.

    budget = MemoryBudget(1 << 30, wait_seconds=10)
    with budget.reserve(cost) as reservation:    # waits while others hold the budget
        ...                                       # reservation.grow(bigger) if a later frame is larger

- A request larger than the whole budget can never be served: ``MediaLimitExceeded("memory",
  nbytes, capacity)`` at once (HTTP 413), without waiting.
- Otherwise the caller waits at most ``wait_seconds``, then gets ``Overloaded`` (HTTP 503 with
  ``Retry-After``). Waiters are served first come first served, so a large request is not
  overtaken forever; a small one (at most 1/16 of the budget: an ordinary photo) may use the
  room left while a large one waits for more, so ordinary uploads keep flowing.
- ``in_use`` and ``peak`` are the bytes reserved now and at most so far: what the process may
  spend on decoding, by construction never above ``capacity``.

Pure: the standard library only; thread-safe; no I/O. One process-wide setting goes with it,
``return_freed_memory()``: what is reserved is what the process holds only if freed decode
buffers go back to the operating system.
"""

from __future__ import annotations

import ctypes
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rempart.errors import InvalidInput, MediaLimitExceeded, Overloaded


class MemoryBudget:
    """``capacity`` bytes shared by every reservation in the process (see the module docstring)."""

    def __init__(self, capacity: int, *, wait_seconds: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= 0:
            raise InvalidInput(f"a memory budget must be a positive number of bytes, not {capacity}")
        if not wait_seconds >= 0:
            raise InvalidInput(f"wait_seconds must be >= 0, not {wait_seconds}")
        self.capacity = capacity
        self.wait_seconds = float(wait_seconds)
        self._clock = clock
        self._lock = threading.Condition()
        self._queue: deque[object] = deque()  # tickets of callers waiting, in arrival order
        self._in_use = 0
        self._peak = 0

    @property
    def in_use(self) -> int:
        with self._lock:
            return self._in_use

    @property
    def peak(self) -> int:
        with self._lock:
            return self._peak

    @property
    def waiting(self) -> int:
        """How many callers wait for memory now."""
        with self._lock:
            return len(self._queue)

    @property
    def retry_after(self) -> int:
        """Seconds a refused caller is told to wait before retrying (at least 1)."""
        return max(1, math.ceil(self.wait_seconds))

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[Reservation]:
        """Hold ``nbytes`` (and whatever ``grow`` adds) for the duration of the block."""
        reservation = Reservation(self, 0)
        reservation.grow(nbytes)
        try:
            yield reservation
        finally:
            self._release(reservation.nbytes)
            reservation.nbytes = 0

    def _acquire(self, nbytes: int) -> None:
        if nbytes > self.capacity:
            raise MediaLimitExceeded("memory", nbytes, self.capacity)
        ticket = object()
        deadline = self._clock() + self.wait_seconds
        small = nbytes <= self.capacity // 16
        with self._lock:
            self._queue.append(ticket)
            try:
                while ((self._queue[0] is not ticket and not small)
                       or self._in_use + nbytes > self.capacity):
                    left = deadline - self._clock()
                    if left <= 0:
                        raise Overloaded("the server is busy decoding other uploads; retry later",
                                         retry_after=self.retry_after)
                    self._lock.wait(left)
                self._in_use += nbytes
                self._peak = max(self._peak, self._in_use)
            finally:
                self._queue.remove(ticket)
                self._lock.notify_all()  # the next in line may fit now

    def _release(self, nbytes: int) -> None:
        if nbytes:
            with self._lock:
                self._in_use -= nbytes
                self._lock.notify_all()


class Reservation:
    """Bytes held from a ``MemoryBudget``; only ever grows until the ``reserve`` block ends."""

    def __init__(self, budget: MemoryBudget, nbytes: int) -> None:
        self._budget = budget
        self.nbytes = nbytes

    def grow(self, nbytes: int) -> None:
        """Hold at least ``nbytes`` in total, waiting (or refusing) as ``reserve`` does."""
        extra = int(nbytes) - self.nbytes
        if extra > 0:
            if nbytes > self._budget.capacity:
                raise MediaLimitExceeded("memory", int(nbytes), self._budget.capacity)
            self._budget._acquire(extra)
            self.nbytes += extra


def return_freed_memory() -> bool:
    """Have glibc's malloc return every freed block of 1 MiB or more to the system at once.

    By default glibc raises its mmap threshold each time a large block is freed (up to 32 MiB),
    after which freed decode buffers stay in the process's heaps: its memory then exceeds what
    the budget accounts for by hundreds of MiB under load. Fixing the threshold (M_MMAP_THRESHOLD)
    keeps large buffers mapped on their own. Process-wide; False where there is no glibc.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 1 << 20))


_M_MMAP_THRESHOLD = -3  # from glibc's <malloc.h>


#: the budget of a process that shares none (the CLI, a library call): every request fits
UNLIMITED = MemoryBudget(1 << 62)
