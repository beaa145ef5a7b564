"""Pairs each benchmark with its floor, measured in the same run, and prints the ratios.

A benchmark declares its floor with ``benchmark.extra_info["floor"] = "<floor test name>"``;
the summary at the end shows ``subject / floor`` of the medians. Ratios, not seconds, are what
the docs and issue notes quote, because they survive a change of machine.
"""

from __future__ import annotations

from typing import Any

import pytest

_MEDIANS: dict[str, float] = {}
_FLOORS: dict[str, str] = {}


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


def pytest_terminal_summary(terminalreporter: Any) -> None:
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
