"""A time budget for one planner computation, checked by the computation itself.

A Python thread cannot be stopped from outside, and one GEOS overlay cannot be interrupted
once it runs: an 800,000-vertex comb polygon intersected with a district took minutes in one
call. So the budget is kept in two ways. Between districts, zones and cameras the metrics call
:meth:`Deadline.check`; and before an overlay of polygons they ask :meth:`Deadline.overlay`,
which estimates the call's time from the vertices involved and refuses it up front when it
would not fit in what is left of the budget. The estimate is that of the worst shape measured
(benchmarks/heavy_geometry.py's comb, teeth a centimetre apart, inside one district): 0.9 s at
5,000 vertices, 3.2 s at 20,000, 10.6 s at 50,000, 33 s at 100,000 (GEOS 3.14 on this 2-core
machine); ordinary outlines of that size are much quicker, so only what is truly heavy is
refused. The overlays themselves are made with shapely's array functions, which release the
GIL (the geometry methods of shapely 2.2 do not): the worker's main loop keeps its heartbeat.

Over budget, the computation raises :class:`OverBudget`; the cache keeps it for the data
version (:class:`~mapservice.cache.KeptFailure`), so the next request answers at once, and a
new data version computes again.
"""

from __future__ import annotations

import time

from ..cache import KeptFailure

# Worst-case seconds of one polygon overlay of REFERENCE_VERTICES vertices, and how it grows
# beyond (below, in proportion): an envelope over the measurements above.
REFERENCE_VERTICES = 20_000
REFERENCE_SECONDS = 3.3
GROWTH = 1.5


def overlay_seconds(vertices: int) -> float:
    """The worst-case time of one overlay (intersection) of polygons with ``vertices`` in all."""
    ratio = max(vertices, 0) / REFERENCE_VERTICES
    return float(REFERENCE_SECONDS * (ratio**GROWTH if ratio > 1 else ratio))


class OverBudget(KeptFailure):
    """A computation that would take longer than the budget: ``what`` says where it stopped."""

    def __init__(self, area: str, budget_s: float, what: str) -> None:
        super().__init__(area, budget_s, what)
        self.area = area
        self.budget_s = budget_s
        self.what = what

    def __str__(self) -> str:
        return (
            f"the planner's computation for {self.area} takes longer than its time budget of "
            f"{self.budget_s:g} s ({self.what})"
        )


class Deadline:
    """The end of one computation's budget; ``seconds=None``: no budget (the command line)."""

    def __init__(self, area: str, seconds: float | None) -> None:
        self.area = area
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float:
        return float("inf") if self._end is None else self._end - time.monotonic()

    def check(self, what: str) -> None:
        """Raise OverBudget once the budget is spent (``what``: the step that found it so)."""
        if self.seconds is not None and self.remaining() <= 0:
            raise OverBudget(self.area, self.seconds, f"stopped at {what}")

    def overlay(self, vertices: int, what: str) -> None:
        """Refuse an overlay of ``vertices`` in all that is estimated to outlast the budget."""
        self.check(what)
        if self.seconds is not None and overlay_seconds(vertices) > self.remaining():
            raise OverBudget(
                self.area,
                self.seconds,
                f"{what}: {vertices:,} vertices together, too many to intersect in time",
            )


NO_DEADLINE = Deadline("", None)
