"""The performance page is computed from the benchmark JSON: ratios, verdicts and slopes."""

from __future__ import annotations

import importlib.util
import json
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


def test_a_partial_run_refreshes_its_block_and_nothing_else(tmp_path: Path) -> None:
    report = _module()
    data = {
        "machine_info": {"cpu": {"brand_raw": "Test CPU", "count": 2}, "python_version": "3.11"},
        "datetime": "2026-12-02",
        "benchmarks": [
            _bench("test_floor_pytest_plugin_disabled", 1.0, cpu_s=0.5),
            _bench("test_pytest_plugin_installed_off", 1.01,
                   floor="test_floor_pytest_plugin_disabled", cpu_s=0.55),
        ],
    }
    bench = tmp_path / "perf.json"
    bench.write_text(json.dumps(data))
    out, notes = tmp_path / "performance.md", tmp_path / "performance-notes.md"
    out.write_text("# Performance\n\n| `test_other` | 1 s |\n\nnotes\n")
    notes.write_text("notes\n")
    name = "benchmarks/perf/x.py"
    for _ in range(2):  # the second run replaces the first block
        assert report.main(["--section", name, str(bench), str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Performance\n\n| `test_other` | 1 s |\n\nnotes\n")
    assert text.count(f"<!-- perf:{name} -->") == 1
    assert "1.01x | ≤ 1.02x | yes |" in text
    assert "| `test_pytest_plugin_installed_off` | 550.00 ms | 500.00 ms | 1.10x |" in text
    assert notes.read_text().count(f"<!-- /perf:{name} -->") == 1
