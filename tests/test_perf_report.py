"""The performance page is computed from the benchmark JSON: ratios, verdicts and slopes."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "perf_report", ROOT / "benchmarks" / "perf" / "perf_report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench(name: str, median: float, **extra: object) -> dict[str, object]:
    return {"name": name, "stats": {"median": median}, "extra_info": extra}


def test_ratios_verdicts_and_slopes_come_from_the_numbers(tmp_path: Path) -> None:
    report = _module()
    data = {
        "machine_info": {"cpu": {"brand_raw": "Test CPU", "count": 2}, "python_version": "3.11"},
        "datetime": "2026-11-25",
        "benchmarks": [
            _bench("test_floor_write_preserialised_line", 1e-6),
            _bench("test_record_command_step", 3e-6, floor="test_floor_write_preserialised_line"),
            _bench("test_floor_pytest_without_tracebench", 2.0),
            _bench("test_pytest_with_tracebench", 2.2,
                   floor="test_floor_pytest_without_tracebench"),
            _bench("test_detect_scaling[100]", 1e-3, series="detect", n=100),
            _bench("test_detect_scaling[1000]", 1e-2, series="detect", n=1000),
            _bench("test_detect_scaling[10000]", 1e-1, series="detect", n=10000),
        ],
    }
    text = report.render(data)
    assert "| `test_record_command_step` | 3.00 µs |" in text
    assert "3.00x | ≤ 2.0x | **no** |" in text
    assert "1.10x | ≤ 1.15x | yes |" in text
    assert "**detect**: slope 1.00" in text
    assert "Test CPU, 2 CPUs" in text


def test_loglog_slope_tells_quadratic_from_linear() -> None:
    report = _module()
    assert abs(report.loglog_slope([(10, 1.0), (100, 100.0), (1000, 10000.0)]) - 2.0) < 1e-9
