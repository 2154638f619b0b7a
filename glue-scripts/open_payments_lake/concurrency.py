"""Datasets processed at once: each in a driver thread of its own, Spark running their jobs side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")


def concurrently(work: Callable[[_T], _R], items: Sequence[_T]) -> list[_R | BaseException]:
    """work(item) for every item, each in a thread of its own; each result or error, in the items' order.

    Spark runs the jobs of several driver threads at once, so one dataset's plans are analysed and compiled
    on the driver while another's tasks run, instead of the cores waiting for each plan in turn
    (docs/benchmarks.md). Every item has ended when this returns: nothing is left writing after a failure.
    """
    with ThreadPoolExecutor(max_workers=max(1, len(items))) as pool:
        futures = [pool.submit(work, item) for item in items]
    return [future.exception() or future.result() for future in futures]


def raise_first(outcomes: Sequence[object]) -> None:
    """Raise the first error among concurrently's outcomes, if any."""
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
