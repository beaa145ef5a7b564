"""The HTML dashboard in a real browser: Playwright driving Debian's headless Chromium,
pages opened from disk, no network."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_tracebench import TraceRecorder
from pytest_tracebench.engines.local import analyze_paths
from pytest_tracebench.report import build_report, write_report
from pytest_tracebench.report.html import write_dashboard
from pytest_tracebench.settings import Settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed "
                                "(scripts/test.sh installs Debian's chromium when run as root)")
REAL = Path(__file__).parent / "data" / "real"
REPO = Path(__file__).parent.parent
DOCS_IMAGES = REPO / "docs" / "images"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


class Page:
    """A page that records console errors, uncaught exceptions, dialogs and requests."""

    def __init__(self, browser: Any, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text)
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(url)

    def clean(self) -> None:
        assert self.errors == []
        assert [r for r in self.requests if not r.startswith("file://")] == []
        assert self.dialogs == []


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dash")
    settings = Settings()
    results = analyze_paths([str(REAL)], settings)
    report = build_report(results, settings)
    write_report(report, out / "report.json")
    page = write_dashboard(report, out / "report.html")
    return page, json.loads((out / "report.json").read_text())


def test_suite_view_matches_the_json_report_sorts_and_filters(browser: Any,
                                                              dashboard: tuple) -> None:
    page_path, data = dashboard
    p = Page(browser, page_path.as_uri())
    page = p.page
    page.wait_for_selector("#traces tbody tr")
    summary = data["summary"]
    assert page.text_content("#sum-traces") == str(summary["traces"]) == "18"
    # The dashboard drops a trailing ".0" (41.0 shows as "41").
    mean = f"{summary['mean_score']:.1f}".removesuffix(".0")
    assert page.text_content("#sum-mean").split(" ")[0] == mean
    assert page.text_content("#sum-findings") == str(sum(summary["findings_per_detector"]
                                                         .values()))
    assert page.locator("#traces tbody tr").count() == 18
    page.click("#traces th[data-key=score]")
    scores = [float(t) for t in page.locator("#traces tbody td:nth-child(4)").all_text_contents()]
    assert scores == sorted(scores, reverse=True)
    page.click("#traces th[data-key=score]")
    scores = [float(t) for t in page.locator("#traces tbody td:nth-child(4)").all_text_contents()]
    assert scores == sorted(scores)
    page.fill("#filter", "retry_loop")
    assert page.locator("#traces tbody tr").count() == 1
    page.fill("#filter", "django")
    assert page.locator("#traces tbody tr").count() == 6
    if os.environ.get("TRACEBENCH_UPDATE_SCREENSHOTS"):
        page.fill("#filter", "")
        page.screenshot(path=str(DOCS_IMAGES / "suite-view.png"))
    p.clean()


def test_trace_view_keyboard_findings_and_diff(browser: Any, dashboard: tuple) -> None:
    page_path, data = dashboard
    result = next(r for r in data["results"] if r["task_id"] == "pytest-dev__pytest-5840")
    p = Page(browser, page_path.as_uri() + "#/trace/" + result["trace_id"])
    page = p.page
    page.wait_for_selector("#inspector-title")
    assert page.text_content("#inspector-title").startswith("Step 1:")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.text_content("#inspector-title").startswith("Step 3:")
    page.keyboard.press("k")
    assert page.text_content("#inspector-title").startswith("Step 2:")
    page.keyboard.press("n")  # next finding
    first_finding_step = min(f["steps"][0] for f in result["findings"])
    assert page.text_content("#inspector-title").startswith(f"Step {first_finding_step + 1}:")
    # Clicking a finding lands on its step, and the step links back to the finding.
    finding = page.locator("#findings li.finding").last
    step = int(finding.get_attribute("data-step"))
    finding.click()
    assert page.text_content("#inspector-title").startswith(f"Step {step + 1}:")
    assert page.locator("#steps .row.selected").get_attribute("data-step") == str(step)
    assert page.locator("#inspector .finding-link").count() >= 1
    # The edit at that step shows its change as a diff.
    assert page.locator("#diff").count() == 1
    assert page.locator("#diff .add").count() + page.locator("#diff pre").count() >= 1
    # Filters and search narrow the step list.
    page.uncheck("#kind-message")
    assert page.locator("#steps .row.k-message").count() == 0
    page.fill("#step-search", "test_config")
    rows = page.locator("#steps .row")
    assert 1 <= rows.count() <= 4
    assert page.locator("#flow-graph circle.node").count() >= 3
    if os.environ.get("TRACEBENCH_UPDATE_SCREENSHOTS"):
        page.fill("#step-search", "")
        page.check("#kind-message")
        page.locator("#findings li.finding").last.click()
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(DOCS_IMAGES / "trace-view.png"))
    p.clean()


def test_compare_view_for_several_agents(browser: Any, dashboard: tuple) -> None:
    page_path, _ = dashboard
    p = Page(browser, page_path.as_uri() + "#/compare")
    p.page.wait_for_selector("#compare tbody tr")
    assert p.page.locator("#compare thead th").count() == 4  # task, 2 agents, delta
    p.clean()


def test_the_pass_rate_card_says_how_many_traces_it_is_over(browser: Any,
                                                          tmp_path: Path) -> None:
    paths = []
    for name, outcome in (("judged", {"passed": True}), ("unjudged", None), ("other", None)):
        path = tmp_path / f"{name}.jsonl"
        rec = TraceRecorder(path, task=name)
        rec.message("hello")
        rec.end(outcome=outcome)
        paths.append(str(path))
    settings = Settings()
    report = build_report(analyze_paths(paths, settings), settings)
    assert (report.summary.pass_rate, report.summary.judged) == (1.0, 1)
    p = Page(browser, write_dashboard(report, tmp_path / "out" / "index.html").as_uri())
    p.page.wait_for_selector("#traces tbody tr")
    assert p.page.text_content("#sum-pass") == "100% of 1 judged"
    p.clean()


HOSTILE = ['<script>alert("x")</script>', '"><img src=x onerror="alert(1)">',
           "javascript:alert(document.domain)", "</script><script>alert(2)</script>"]


@pytest.mark.parametrize("single_file", [False, True], ids=["folder", "one-file"])
def test_hostile_agent_output_renders_as_text(browser: Any, tmp_path: Path,
                                              single_file: bool) -> None:
    path = tmp_path / "evil.jsonl"
    rec = TraceRecorder(path, task=HOSTILE[0], agent=HOSTILE[1])
    for text in HOSTILE:
        rec.message(text)
        rec.command(text, exit_code=1, stdout=text, stderr=text)
        rec.edit(text, old=text, new=text)
    rec.end()
    settings = Settings()
    report = build_report(analyze_paths([str(path)], settings), settings)
    page_path = write_dashboard(report, tmp_path / "out" / "index.html",
                                single_file=single_file)
    p = Page(browser, page_path.as_uri())
    p.page.wait_for_selector("#traces tbody tr")
    assert p.page.text_content("#traces tbody td:nth-child(1)") == HOSTILE[0]
    trace_id = report.results[0].trace_id
    p.page.goto(page_path.as_uri() + "#/trace/" + trace_id + "/3")
    p.page.wait_for_selector("#inspector-title")
    for _ in range(len(HOSTILE) * 3):
        p.page.keyboard.press("j")
    text = p.page.text_content("#app") or ""
    assert "alert(2)" in text and "onerror" in text
    assert p.page.locator("#app img").count() == 0
    assert p.page.locator("#app script").count() == 0
    assert p.page.evaluate("document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
    p.clean()


def test_the_one_file_dashboard_is_one_file_and_works_alone(browser: Any,
                                                          tmp_path: Path) -> None:
    """Written with ``single_file``, the page needs nothing beside it: moved alone to another
    folder it shows the suite and opens traces, with no request but its own and no
    Content-Security-Policy violation (those are console errors)."""
    settings = Settings()
    report = build_report(analyze_paths([str(REAL)], settings), settings)
    written = write_dashboard(report, tmp_path / "out" / "report.html", single_file=True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html"]
    alone = tmp_path / "elsewhere" / "sent.html"
    alone.parent.mkdir()
    written.rename(alone)
    p = Page(browser, alone.as_uri())
    page = p.page
    page.wait_for_selector("#traces tbody tr")
    assert page.text_content("#sum-traces") == "18"
    assert page.locator("#traces tbody tr").count() == 18
    result = next(r for r in report.results if r.task_id == "pytest-dev__pytest-5840")
    page.goto(alone.as_uri() + "#/trace/" + result.trace_id)
    page.wait_for_selector("#inspector-title")
    assert page.text_content("#inspector-title").startswith("Step 1:")
    assert page.locator("#steps .row").count() > 10
    page.keyboard.press("n")  # the trace's findings are there too
    first = min(f.steps[0] for f in result.findings)
    assert page.text_content("#inspector-title").startswith(f"Step {first + 1}:")
    assert set(p.requests) == {alone.as_uri()}  # the trace came from inside the page
    p.clean()


def test_pytest_writes_the_one_file_dashboard(browser: Any, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent="""
        def test_agent(trace):
            trace.command("pytest -q", exit_code=1, stdout="1 failed, 2 passed in 0.1s")
            trace.message("All tests pass.")
    """)
    result = pytester.runpytest_subprocess("--tracebench", "-p", "no:cacheprovider",
                                           "--tracebench-html=out/dash.html",
                                           "--tracebench-self-contained-html")
    result.assert_outcomes(passed=1)
    assert [p.name for p in (pytester.path / "out").iterdir()] == ["dash.html"]
    p = Page(browser, (pytester.path / "out" / "dash.html").as_uri())
    p.page.click("#traces tbody a")
    p.page.wait_for_selector("#inspector-title")
    assert p.page.text_content("#inspector-title") == "Step 1: pytest"
    assert "false_success_claim" in (p.page.text_content("#findings") or "")
    p.clean()


def test_a_folder_dashboard_written_again_as_one_file_leaves_no_assets(tmp_path: Path
                                                                       ) -> None:
    settings = Settings()
    report = build_report(analyze_paths([str(REAL / "mini-swe-agent")], settings), settings)
    write_dashboard(report, tmp_path / "d.html")
    assert (tmp_path / "d_files" / "report.js").is_file()
    write_dashboard(report, tmp_path / "d.html", single_file=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.html"]
    mine = tmp_path / "notes_files"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    write_dashboard(report, tmp_path / "notes.html", single_file=True)
    assert (mine / "keep.txt").read_text() == "mine"  # not ours: left alone


def test_a_ten_thousand_step_trace_opens_and_steps(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    rec = TraceRecorder(path, task="long", redact=False)
    for i in range(10_000):
        rec.command(f"echo {i}", exit_code=0, stdout=f"line {i}")
    rec.end()
    settings = Settings()
    report = build_report(analyze_paths([str(path)], settings), settings)
    page_path = write_dashboard(report, tmp_path / "out" / "index.html")
    p = Page(browser, page_path.as_uri() + "#/trace/" + report.results[0].trace_id)
    p.page.wait_for_selector("#steps .row")
    assert p.page.text_content("#inspector-title") == "Step 1: echo"
    assert p.page.locator("#steps .row").count() < 100  # virtualised: only what is visible
    p.page.keyboard.press("j")
    assert p.page.text_content("#inspector-title") == "Step 2: echo"
    p.clean()


def test_comparison_against_a_baseline_run(browser: Any, tmp_path: Path) -> None:
    import subprocess
    import sys

    mini = REAL / "mini-swe-agent"
    run = [sys.executable, "-m", "pytest_tracebench", "analyze"]
    first = subprocess.run([*run, str(mini / "django__django-11179"), "--save", "base"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
    second = subprocess.run([*run, str(mini / "django__django-11179"),
                             str(mini / "pytest-dev__pytest-5840"), "--compare", "base",
                             "--html", "out/index.html"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    p = Page(browser, (tmp_path / "out" / "index.html").as_uri() + "#/compare")
    p.page.wait_for_selector("#baseline-compare tbody tr")
    rows = p.page.locator("#baseline-compare tbody tr").all_text_contents()
    assert any("pytest-dev__pytest-5840" in r and "only in new" in r for r in rows)
    assert any("django__django-11179" in r and "+0" not in r for r in rows)
    p.clean()


# -- the page's own name, keys from agent data, ids holding line terminators ---------------------

@pytest.mark.parametrize("name", ['x"><script src=evil.js><x y=".html', "a#b.html",
                                  "q?x=1.html", "sp ace%20&amp;.html"])
def test_the_dashboard_s_own_file_name_is_not_markup_and_not_cut(browser: Any, tmp_path: Path,
                                                                 name: str) -> None:
    # The name went into index.html as is: a quote ended the attribute and a script beside
    # the page ran (the folder mode's script-src 'self' allows it); a # or ? cut the asset
    # URLs, giving a page with no rows.
    (tmp_path / "evil.js").write_text("window.__evil = 1; document.title = 'pwned';")
    path = tmp_path / "run.jsonl"
    rec = TraceRecorder(path, task="named")
    rec.command("ls", exit_code=0, stdout="x")
    rec.end()
    settings = Settings()
    report = build_report(analyze_paths([str(path)], settings), settings)
    page_path = write_dashboard(report, tmp_path / name)
    assert page_path.name == name
    p = Page(browser, page_path.as_uri())
    p.page.wait_for_selector("#traces tbody tr")
    assert p.page.evaluate("window.__evil") is None
    assert p.page.title() == "TraceBench report"
    p.page.click("#traces tbody a")
    p.page.wait_for_selector("#inspector-title")
    assert p.page.text_content("#inspector-title") == "Step 1: ls"
    assert (tmp_path / "evil.js").as_uri() not in p.requests
    p.clean()


def _trace_as(tmp_path: Path, file: str, *, trace_id: str | None = None, task: str,
              agent: str) -> Path:
    from pytest_tracebench import dump_trace, load_trace

    path = tmp_path / file
    rec = TraceRecorder(path, task=task, agent=agent)
    rec.command("ls", exit_code=0, stdout=f"{task} by {agent}")
    rec.end()
    trace = load_trace(path)
    if trace_id is not None:
        trace.header.trace_id = trace_id
    return dump_trace(trace, path)


@pytest.mark.parametrize("single_file", [False, True], ids=["folder", "one-file"])
def test_keys_from_agent_data_cannot_pollute_prototypes(browser: Any, tmp_path: Path,
                                                        single_file: bool) -> None:
    # A task id "__proto__" made the compare view set Object.prototype[<agent>]; with both
    # "__proto__" it threw. A trace id "__proto__" could not be opened.
    paths = [_trace_as(tmp_path, "a.jsonl", trace_id="__proto__", task="__proto__",
                       agent="polluter"),
             _trace_as(tmp_path, "b.jsonl", task="__proto__", agent="__proto__"),
             _trace_as(tmp_path, "c.jsonl", task="constructor", agent="toString"),
             _trace_as(tmp_path, "d.jsonl", task="plain", agent="polluter")]
    settings = Settings()
    report = build_report(analyze_paths(list(map(str, paths)), settings), settings)
    page_path = write_dashboard(report, tmp_path / "out" / "index.html",
                                single_file=single_file)
    p = Page(browser, page_path.as_uri() + "#/compare")
    p.page.wait_for_selector("#compare tbody tr")
    own = p.page.evaluate("Object.getOwnPropertyNames(Object.prototype)")
    assert "polluter" not in own and "__proto__" in own  # the accessor, not a value we set
    assert p.page.evaluate("typeof ({}).toString === 'function' && "
                           "Object.getPrototypeOf({}) === Object.prototype")
    assert p.page.evaluate("({}).polluter") is None
    heads = p.page.locator("#compare thead th").all_text_contents()
    assert sorted(heads[1:-1]) == ["__proto__", "polluter", "toString"]
    rows = p.page.locator("#compare tbody tr td:first-child").all_text_contents()
    assert sorted(rows) == ["__proto__", "constructor", "plain"]
    p.page.goto(page_path.as_uri() + "#/trace/__proto__")
    p.page.wait_for_selector("#inspector-title")
    assert "__proto__ by polluter" in (p.page.text_content("#inspector") or "")
    p.clean()


@pytest.mark.parametrize("trace_id", ["a\u2028b", "line\nbreak", "c\u2029d/7", "100%"])
def test_a_trace_id_with_a_line_terminator_opens(browser: Any, tmp_path: Path,
                                                 trace_id: str) -> None:
    path = _trace_as(tmp_path, "t.jsonl", trace_id=trace_id, task="odd id", agent="a")
    settings = Settings()
    report = build_report(analyze_paths([str(path)], settings), settings)
    page_path = write_dashboard(report, tmp_path / "out" / "index.html")
    p = Page(browser, page_path.as_uri())
    p.page.wait_for_selector("#traces tbody tr")
    p.page.click("#traces tbody a")
    p.page.wait_for_selector("#inspector-title")
    assert p.page.text_content("#trace-title") == "odd id"
    p.page.keyboard.press("j")  # a step change inside the open trace keeps it open
    p.page.wait_for_selector("#inspector-title")
    assert p.page.text_content("#trace-title") == "odd id"
    p.clean()


# -- the evidence a reviewer needs, and marks that become a labels file ---------------------------

BENCH_TASK = "unsolvable_parser"  # the repair agent fails it every run, in five steps


@pytest.fixture(scope="module")
def failed_task(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Path]:
    """The benchmark suite run for real on one task its agent fails (a subprocess, as CI
    runs it): the dashboard, the JSON report and the folder of trace files."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("bench")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "benchmarks" / "test_tasks.py"), "-q",
         "-p", "no:cacheprovider", "-k", BENCH_TASK, "--tracebench",
         f"--tracebench-dir={out / 'tb'}", f"--tracebench-html={out / 'dash.html'}",
         f"--tracebench-json={out / 'report.json'}"],
        cwd=out, capture_output=True, text=True, timeout=900)
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]  # the task failed
    return out / "dash.html", json.loads((out / "report.json").read_text()), out / "tb"


def test_a_failed_benchmark_task_shows_what_decided_it(browser: Any, failed_task: tuple
                                                       ) -> None:
    page_path, report, _ = failed_task
    (result,) = report["results"]
    assert result["score"]["outcome"] == "failed"
    p = Page(browser, page_path.as_uri() + "#/trace/" + result["trace_id"])
    page = p.page
    page.wait_for_selector("#inspector-title")
    # The task: the issue text the agent was given, as written.
    issue = (REPO / "benchmarks" / "tasks" / BENCH_TASK / "issue.md").read_text().strip()
    assert page.text_content("#task-text") == issue
    # The verdict and what decided it: the test failed on the hidden tests' result, whose
    # own failure (the hidden test and its assertion) is quoted.
    assert page.text_content("#verdict-outcome") == "failed"
    assert page.text_content("#trace-outcome") == "failed"
    failure = page.text_content("#verdict-failure") or ""
    assert "assert hidden.returncode == 0" in failure
    assert "_hidden/test_hidden.py" in failure and "def test_" in failure
    summary = page.locator("#verdict-summary li").all_text_contents()
    assert summary and all(s.startswith("FAILED _hidden/test_hidden.py::test_") for s in summary)
    # The test run's output as text, with its line breaks, not an escaped JSON string; and
    # the time the run took (the suite ran for a while: not 0 ms).
    test_row = page.locator("#steps .row.k-test").first
    step = int(test_row.get_attribute("data-step") or "0")
    test_row.click()
    assert page.text_content("#inspector-title") == f"Step {step + 1}: run_tests"
    output = page.locator("#inspector pre[data-kind=text]").filter(has_text="FAILURES")
    assert output.count() == 1
    text = output.inner_text()
    assert "\n" in text and "\\n" not in text
    assert "short test summary info" in text.splitlines()[-3]
    took = float(page.get_attribute("#step-duration", "data-seconds") or "0")
    assert took > 0
    assert test_row.locator(".dur").text_content() not in ("", "<1 ms")
    # Colour is the outcome: this test run failed.
    assert "o-bad" in (test_row.get_attribute("class") or "")
    # A directed flow graph whose edges say how often they were taken.
    edges = page.locator("#flow-graph g.flowedge")
    assert edges.count() >= 1
    assert all(int(edges.nth(i).get_attribute("data-count") or 0) >= 1
               and (edges.nth(i).locator("text.edgecount").text_content() or "").isdigit()
               for i in range(edges.count()))
    assert page.locator("#flow-graph path[marker-end]").count() == edges.count()
    if os.environ.get("TRACEBENCH_UPDATE_SCREENSHOTS"):
        page.screenshot(path=str(DOCS_IMAGES / "review-view.png"))
    p.clean()


def test_marks_on_findings_download_as_labels_that_calibrate_reads(
        browser: Any, failed_task: tuple, tmp_path: Path) -> None:
    import subprocess
    import sys

    page_path, report, trace_dir = failed_task
    (result,) = report["results"]
    findings = result["findings"]
    assert len(findings) >= 2
    p = Page(browser, page_path.as_uri() + "#/trace/" + result["trace_id"])
    page = p.page
    page.wait_for_selector("#findings li.finding")
    assert page.is_disabled("#download-labels")
    items = page.locator("#findings li.finding")
    items.nth(0).locator("button.mark-right").click()
    items.nth(1).locator("button.mark-wrong").click()
    items.nth(1).locator("button.mark-right").click()  # changed its mind: right after all
    items.nth(1).locator("button.mark-right").click()  # ... and cleared it
    items.nth(1).locator("button.mark-wrong").click()
    assert items.nth(0).locator("button.mark-right").get_attribute("aria-pressed") == "true"
    assert page.text_content("#download-labels") == "Download labels (2)"
    # The marks outlive a reload (kept in the browser for this report).
    page.reload()
    page.wait_for_selector("#findings li.finding")
    assert page.locator("#findings button.mark-wrong[aria-pressed=true]").count() == 1
    with page.expect_download() as info:
        page.click("#download-labels")
    download = info.value
    assert download.suggested_filename == "tracebench-labels.jsonl"
    labels = tmp_path / download.suggested_filename
    download.save_as(labels)
    lines = [json.loads(line) for line in labels.read_text().splitlines()]
    assert sorted((x["detector"], x["steps"], x["label"]) for x in lines) == sorted(
        [(findings[0]["detector"], findings[0]["steps"], "right"),
         (findings[1]["detector"], findings[1]["steps"], "wrong")])
    assert {x["trace_id"] for x in lines} == {result["trace_id"]}
    # The calibration view (linked from every page) counts them per detector.
    page.click("#nav-calibration")
    page.wait_for_selector("#review-table")
    assert page.locator("#review-table tbody tr").count() == len({x["detector"] for x in lines})
    assert [r for r in p.requests if not r.startswith(("file://", "blob:"))] == []
    assert p.errors == [] and p.dialogs == []
    # What the dashboard wrote is what calibrate reads: each detector's precision against
    # the reviewer, on the benchmark's own trace files.
    run = subprocess.run([sys.executable, "-m", "pytest_tracebench", "calibrate",
                          str(trace_dir), "--labels", str(labels)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert f"=== Reviewer labels: 2 in {labels}, 2 matched" in run.stdout
    rows = {line.split()[0]: line.split()[1:4] for line in run.stdout.splitlines()
            if line.startswith("  ") and line.split()[0] in {x["detector"] for x in lines}}
    assert rows[findings[0]["detector"]][0] == "1"
    assert rows[findings[1]["detector"]][1] == "1"


def test_runs_repeats_colours_and_command_output(browser: Any, tmp_path: Path) -> None:
    paths = []
    for n, passed in enumerate((True, False, True)):
        rec = TraceRecorder(tmp_path / f"flaky{n}.jsonl", task="flaky", agent="a")
        rec.command("make build", exit_code=2, stdout="compiling\nerror: no rule", stderr="")
        rec.test_run(passed=3, command="pytest", output="...\n3 passed", started_at=10.0,
                     ended_at=12.5)
        rec.end(outcome={"passed": passed})
        paths.append(str(tmp_path / f"flaky{n}.jsonl"))
    settings = Settings()
    report = build_report(analyze_paths(paths, settings), settings)
    page_path = write_dashboard(report, tmp_path / "out" / "index.html")
    p = Page(browser, page_path.as_uri())
    page = p.page
    page.wait_for_selector("#runs-table tbody tr")
    assert page.get_attribute("#runs-details", "open") is not None  # repeats: shown open
    flaky = page.locator('#runs-table tbody tr[data-runs="3"]')
    assert flaky.locator("td").nth(3).text_content() == "2/3"
    assert flaky.locator("a.runlink.ok").count() == 2
    assert flaky.locator("a.runlink.bad").count() == 1
    assert page.text_content("#pass-at-k").startswith("pass@1 0.67")
    flaky.locator("a.runlink.bad").click()
    page.wait_for_selector("#inspector-title")
    build, tests = page.locator("#steps .row.k-command"), page.locator("#steps .row.k-test")
    # A passing test run is green and a failed command red, whatever their kinds.
    assert "o-good" in (tests.get_attribute("class") or "")
    assert "o-bad" in (build.get_attribute("class") or "")
    colour = "getComputedStyle(document.querySelector('#steps .row.k-%s')).borderLeftColor"
    assert page.evaluate(colour % "test") == "rgb(26, 127, 55)"
    assert page.evaluate(colour % "command") == "rgb(185, 28, 28)"
    assert tests.locator(".dur").text_content() == "2.5 s"
    build.click()
    stdout = page.locator("#inspector pre[data-kind=text]").filter(has_text="compiling")
    assert stdout.inner_text() == "compiling\nerror: no rule"
    assert "exit 2" in (page.text_content("#inspector .command") or "")
    p.clean()
