"""Pairs each benchmark with its floor, measured in the same run, and prints the ratios.

A benchmark declares its floor with ``benchmark.extra_info["floor"] = "<floor test name>"``;
the summary at the end shows ``subject / floor`` of the medians. Ratios, not seconds, are what
the docs and issue notes quote, because they survive a change of machine.
"""

from __future__ import annotations

from typing import Any

import pytest
from perf_report import loglog_slope

_MEDIANS: dict[str, float] = {}
_FLOORS: dict[str, str] = {}
_SERIES: dict[str, list[tuple[float, float]]] = {}


@pytest.fixture
def ratio_benchmark(benchmark: Any, request: pytest.FixtureRequest) -> Any:
    yield benchmark
    stats = getattr(benchmark, "stats", None)
    if stats is None:  # --benchmark-disable: the function ran once, nothing to compare
        return
    name = request.node.name
    _MEDIANS[name] = stats.stats.median
    floor = benchmark.extra_info.get("floor")
    if floor:
        _FLOORS[name] = floor
    series = benchmark.extra_info.get("series")
    if series:
        _SERIES.setdefault(series, []).append((float(benchmark.extra_info["n"]),
                                               stats.stats.median))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for series, points in sorted(_SERIES.items()):
        if len(points) < 2:
            continue
        points.sort()
        terminalreporter.section(f"tracebench perf scaling: {series}")
        for n, t in points:
            terminalreporter.write_line(f"{int(n):>8} -> {t * 1e3:10.2f} ms "
                                        f"({t / n * 1e6:.2f} us per unit)")
        terminalreporter.write_line(f"log-log slope: {loglog_slope(points):.2f}")
    rows = [(name, floor) for name, floor in _FLOORS.items() if floor in _MEDIANS]
    if not rows:
        return
    terminalreporter.section("tracebench perf ratios (median / floor median)")
    for name, floor in rows:
        ratio = _MEDIANS[name] / _MEDIANS[floor]
        terminalreporter.write_line(
            f"{name}: {_MEDIANS[name] * 1e6:.2f} us vs {floor}: {_MEDIANS[floor] * 1e6:.2f} us "
            f"-> {ratio:.2f}x"
        )
