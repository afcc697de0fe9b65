"""The decode memory budget (rempart.signals.budget): accounting, refusal, waiting, fairness."""

from __future__ import annotations

import threading

import pytest

from rempart.errors import InvalidInput, MediaLimitExceeded, Overloaded
from rempart.signals.budget import MemoryBudget

MIB = 1 << 20


def test_reservations_are_counted_and_returned():
    budget = MemoryBudget(100 * MIB, wait_seconds=0)
    with budget.reserve(30 * MIB) as a:
        assert (a.nbytes, budget.in_use) == (30 * MIB, 30 * MIB)
        with budget.reserve(70 * MIB):
            assert budget.in_use == 100 * MIB
        a.grow(40 * MIB)  # grows to a total, never shrinks
        a.grow(10 * MIB)
        assert (a.nbytes, budget.in_use) == (40 * MIB, 40 * MIB)
    assert (budget.in_use, budget.peak) == (0, 100 * MIB)
    with pytest.raises(RuntimeError), budget.reserve(60 * MIB):
        raise RuntimeError("the work failed")
    assert budget.in_use == 0  # returned when the work fails too


def test_more_than_the_whole_budget_is_refused_at_once():
    budget = MemoryBudget(100 * MIB, wait_seconds=60)  # would wait a minute if it waited
    with pytest.raises(MediaLimitExceeded) as excinfo, budget.reserve(100 * MIB + 1):
        pass
    assert (excinfo.value.limit, excinfo.value.maximum, excinfo.value.status) == (
        "memory", 100 * MIB, 413)
    with budget.reserve(10 * MIB) as r, pytest.raises(MediaLimitExceeded):
        r.grow(101 * MIB)
    assert budget.in_use == 0


def test_a_spent_budget_makes_callers_wait_then_refuses_with_retry_after():
    budget = MemoryBudget(100 * MIB, wait_seconds=0.2)
    with budget.reserve(90 * MIB):
        with pytest.raises(Overloaded) as excinfo, budget.reserve(20 * MIB):
            pass
    assert excinfo.value.status == 503 and excinfo.value.retry_after >= 1
    assert budget.in_use == 0
    with budget.reserve(100 * MIB):  # and once returned, the whole budget is there again
        pass


def test_a_waiting_caller_gets_in_when_memory_is_returned():
    budget = MemoryBudget(100 * MIB, wait_seconds=30)
    holding, got_in = threading.Event(), threading.Event()
    release = threading.Event()

    def holder():
        with budget.reserve(80 * MIB):
            holding.set()
            release.wait()

    def waiter():
        with budget.reserve(50 * MIB):
            got_in.set()

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    threads[0].start()
    holding.wait()
    threads[1].start()
    assert not got_in.wait(0.2)  # 80 + 50 > 100: it waits...
    release.set()
    assert got_in.wait(30)  # ...and gets in as soon as the 80 are returned
    for t in threads:
        t.join()
    assert budget.peak <= 100 * MIB


def test_large_waiters_are_served_in_order_and_small_ones_use_the_room_left():
    budget = MemoryBudget(160 * MIB, wait_seconds=30)
    order: list[str] = []
    lock = threading.Lock()
    release_first = threading.Event()

    def take(name: str, nbytes: int, hold: threading.Event | None = None):
        with budget.reserve(nbytes):
            with lock:
                order.append(name)
            if hold is not None:
                hold.wait()

    first = threading.Thread(target=take, args=("first", 100 * MIB, release_first))
    first.start()
    while budget.in_use == 0:
        threading.Event().wait(0.01)
    second = threading.Thread(target=take, args=("second", 100 * MIB))
    second.start()
    while not budget.waiting:  # the second one waits for 100 MiB
        threading.Event().wait(0.01)
    third = threading.Thread(target=take, args=("third", 50 * MIB))
    third.start()
    small = threading.Thread(target=take, args=("small", 10 * MIB))  # <= 1/16: may pass
    small.start()
    small.join(30)
    assert order == ["first", "small"]  # the 50 MiB one does not overtake the 100 MiB one
    release_first.set()
    for t in (first, second, third):
        t.join(30)
    assert order == ["first", "small", "second", "third"]


def test_many_threads_never_hold_more_than_the_budget():
    budget = MemoryBudget(64 * MIB, wait_seconds=30)
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def work(n: int):
        barrier.wait()
        try:
            for i in range(50):
                with budget.reserve(((n * 7 + i) % 20 + 1) * MIB):
                    assert budget.in_use <= budget.capacity
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert budget.in_use == 0 and 0 < budget.peak <= 64 * MIB


@pytest.mark.parametrize("capacity", [0, -1, 1.5, True, "1G"])
def test_a_budget_is_a_positive_number_of_bytes(capacity):
    with pytest.raises(InvalidInput):
        MemoryBudget(capacity)
