"""Dashboard page size and time to open a trace (first step visible) in headless Chromium:
a 10,000-step trace against a 100-step one."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from _synthetic import write_trace

from pytest_tracebench.engines.local import analyze_paths
from pytest_tracebench.report import build_report
from pytest_tracebench.report.html import write_dashboard
from pytest_tracebench.settings import Settings

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def browser() -> Any:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
        yield b
        b.close()


def _dashboard(folder: Path, steps: int) -> tuple[str, int]:
    trace = write_trace(folder / f"t{steps}.jsonl", steps)
    settings = Settings()
    report = build_report(analyze_paths([str(trace)], settings), settings)
    page = write_dashboard(report, folder / f"d{steps}" / "index.html")
    size = sum(p.stat().st_size for p in page.parent.rglob("*") if p.is_file())
    return page.as_uri() + "#/trace/" + report.results[0].trace_id, size


@pytest.mark.parametrize("steps", [100, 10_000])
def test_open_trace_view(ratio_benchmark: Any, browser: Any, tmp_path: Path,
                         steps: int) -> None:
    url, size = _dashboard(tmp_path, steps)
    ratio_benchmark.extra_info["page_bytes"] = size
    if steps == 10_000:
        ratio_benchmark.extra_info["floor"] = "test_open_trace_view[100]"

    def open_page() -> None:
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("#steps .row")
        ratio_benchmark.extra_info["first_step_ms"] = round(
            (time.perf_counter() - started) * 1000)
        page.close()

    ratio_benchmark.pedantic(open_page, rounds=3, iterations=1)
