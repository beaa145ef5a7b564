"""``tracebench calibrate``: detectors and the score measured against verifiers' verdicts.

On a fixed subset of the development corpus (copied at test time into a temporary folder, a
source per folder), the command's JSON is checked against what ``tracebench analyze`` finds on
the same trajectories; on the whole corpus, the published figures (``docs/data/calibration.json``,
the tables in ``docs/detectors.md``, the shipped score model) are checked to be what the
command measures now, so they cannot go stale when a detector changes.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_tracebench.score.calibration.markdown import block_of, markdown
from pytest_tracebench.score.calibration.model import ScoreModel, chance, load_model
from pytest_tracebench.score.calibration.report import CalibrationReport
from tests._corpus import DEV, needs_corpus

REPO = Path(__file__).resolve().parent.parent
PUBLISHED = REPO / "docs" / "data" / "calibration.json"
SUBSET = {  # source -> how many resolved and unresolved runs (the first by run id)
    "sweagent-0.x-gpt4-0125-swebench-lite": 2,
    "live-swe-agent-gpt5mini-swebv-subset": 2,
    "codex-o4mini-usaco-terminalbench-adapter": 2,
}


def tb(*args: str, cwd: Path | None = None, timeout: float = 900
       ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_tracebench", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)


@pytest.fixture(scope="module")
def subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("subset")
    if not (DEV / "corpus_index.csv").is_file():
        return root
    rows = list(csv.DictReader(open(DEV / "corpus_index.csv", encoding="utf-8")))
    for source, n in SUBSET.items():
        mine = sorted((r for r in rows if r["source"] == source), key=lambda r: r["run_id"])
        for resolved in ("True", "False"):
            for row in [r for r in mine if r["resolved"] == resolved][:n]:
                shutil.copytree(DEV / source / row["run_id"], root / source / row["run_id"])
    return root


@needs_corpus
def test_calibrate_json_on_a_fixed_subset_agrees_with_analyze(subset: Path, tmp_path: Path
                                                               ) -> None:
    run = tb("calibrate", str(subset), "--json", str(tmp_path / "cal.json"),
             "--write-model", str(tmp_path / "model.json"))
    assert run.returncode == 0, run.stderr
    report = CalibrationReport.model_validate_json((tmp_path / "cal.json").read_text())
    assert (report.runs, report.resolved, report.unverified, report.errors) == (12, 6, 0, 0)
    assert report.readers == {"swe-bench-report": 4, "terminal-bench": 4, "verdict-file": 4}
    assert [(s.source, s.runs, s.resolved) for s in report.sources] == [
        (name, 4, 2) for name in sorted(SUBSET)]
    assert report.not_trajectories > 0  # verdicts, patches and logs beside the runs
    # The same trajectories through `tracebench analyze`, verdicts off: the findings and the
    # scores calibrate measured are the pipeline's own.
    blind = tb("analyze", str(subset), "--verdicts=false", "--json", str(tmp_path / "a.json"))
    assert blind.returncode == 0, blind.stderr
    results = json.loads((tmp_path / "a.json").read_text())["results"]
    assert len(results) == 12
    resolved = _resolved()
    by_run = {}
    for r in results:
        path = Path(r["path"])
        by_run[path.name if path.is_dir() else path.parent.name] = r
    assert len(by_run) == 12 and set(by_run) <= set(resolved)
    for m in report.detectors:
        fires = [(resolved[k], any(f["detector"] == m.detector and f["severity"] != "info"
                                   for f in r["findings"])) for k, r in by_run.items()]
        assert m.fires_resolved == sum(1 for ok, fired in fires if ok and fired), m.detector
        assert m.fires_unresolved == sum(1 for ok, fired in fires if not ok and fired)
    from sklearn.metrics import roc_auc_score

    scores = [r["score"]["value"] for r in by_run.values()]
    labels = [int(resolved[k]) for k in by_run]
    assert report.pooled["current"].value == pytest.approx(roc_auc_score(labels, scores),
                                                           abs=0.02)
    # The model it wrote scores the same runs as its JSON says, and the score uses it.
    written = ScoreModel.model_validate_json((tmp_path / "model.json").read_text())
    assert written == report.model
    one = next(iter(by_run.values()))
    rescored = tb("analyze", one["path"], "--verdicts=false", "--calibration",
                  str(tmp_path / "model.json"), "--json", "-")
    assert rescored.returncode == 0, rescored.stderr
    result = json.loads(rescored.stdout)["results"][0]
    fired = {f["detector"]: True for f in result["findings"] if f["severity"] != "info"}
    assert result["score"]["model"] == str(tmp_path / "model.json")
    assert result["score"]["value"] == pytest.approx(
        100 * chance(written, fired, result["features"]), abs=0.06)
    # Deterministic: the same runs measured again give the same report.
    again = tb("calibrate", str(subset), "--json", str(tmp_path / "again.json"))
    assert again.returncode == 0
    first = json.loads((tmp_path / "cal.json").read_text())
    second = json.loads((tmp_path / "again.json").read_text())
    for doc in (first, second):
        doc.pop("created")
        doc["model"]["fitted_on"].pop("command")
    assert first == second


def _resolved() -> dict[str, bool]:
    rows = csv.DictReader(open(DEV / "corpus_index.csv", encoding="utf-8"))
    return {r["run_id"]: r["resolved"] == "True" for r in rows}


@needs_corpus
def test_the_text_report_names_sources_detectors_and_targets(subset: Path) -> None:
    run = tb("calibrate", str(subset))
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.startswith("=== Calibration: 12 verified runs (6 resolved) of 3 sources ===")
    for name in SUBSET:
        assert name in out
    assert "score, each source held out" in out and "cost alone" in out
    assert "no_change" in out and "Targets:" in out and "Calibration (held-out sources)" in out


def test_calibrate_says_what_it_needs(tmp_path: Path) -> None:
    lone = tmp_path / "runs" / "a"
    lone.mkdir(parents=True)
    (lone / "trace.jsonl").write_text(
        '{"type": "trace", "trace_id": "t1", "task": {"id": "x"}}\n'
        '{"type": "end", "status": "completed"}\n')
    run = tb("calibrate", str(tmp_path / "runs"))
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        "tracebench: error: calibration needs resolved and unresolved runs from at least two "
        "sources; found 0 verified run(s) (0 resolved) in 0 source(s), 1 without a verdict")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    run = tb("calibrate", str(tmp_path / "runs"), "--calibration", str(bad))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"{bad}: not a score model: invalid JSON" in run.stderr


def _close(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, floats compared to 0.002 (a platform's last digits)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}: keys {sorted(set(a) ^ set(b))}"] if set(a) != set(b) else []
        for key in set(a) & set(b):
            out += _close(a[key], b[key], f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in _close(x, y, f"{path}[{i}]")]
    if isinstance(a, float) or isinstance(b, float):
        ok = isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
            math.isclose(a, b, abs_tol=0.002)
        return [] if ok else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@needs_corpus
def test_the_published_figures_are_what_calibrate_measures_now(tmp_path: Path) -> None:
    """docs/data/calibration.json, the shipped model and the tables in docs/detectors.md are
    the output of `bash scripts/calibrate.sh` on the current code: change a detector or a
    feature, and this fails until they are regenerated."""
    run = tb("calibrate", str(DEV), "-j", "2", "--json", str(tmp_path / "now.json"),
             timeout=1200)
    assert run.returncode == 0, run.stderr
    now = json.loads((tmp_path / "now.json").read_text())
    published = json.loads(PUBLISHED.read_text())
    for doc in (now, published):
        doc.pop("created")
        doc["model"]["fitted_on"].pop("command")
    assert _close(now, published) == []


def test_the_published_tables_and_model_are_one_measurement() -> None:
    report = CalibrationReport.model_validate_json(PUBLISHED.read_text())
    text = (REPO / "docs" / "detectors.md").read_text()
    assert block_of(text) == markdown(report)
    assert load_model() == report.model
    assert report.runs == 752 and len(report.sources) == 9
    # The thresholds every detector runs with are the ones the figures were measured with.
    from pytest_tracebench.pipeline import Pipeline

    detectors = Pipeline.from_settings().detectors
    assert {d.name: json.loads(json.dumps(getattr(d, "options", {}))) for d in detectors} \
        == report.thresholds
    # What the score says it weighs is what the model weighs.
    costing = {t.name for t in report.model.terms if t.kind == "detector" and t.weight < 0}
    for target in report.targets:
        if target.measure.startswith("lift of "):
            assert target.measure.split()[2] in costing


def test_the_bounds_of_the_misses_quote_the_published_figures() -> None:
    """The prose under the generated tables (docs/detectors.md, "What bounds the misses")
    quotes figures of the measurement: they must be the published ones."""
    report = json.loads(PUBLISHED.read_text())
    text = (REPO / "docs" / "detectors.md").read_text()
    prose = text[text.index("**What bounds the misses.**"):]
    prose = prose[:prose.index("\n## ")]
    sources = {s["source"]: s for s in report["sources"]}
    missed = [t for t in report["targets"] if not t["met"]]
    assert f"{len(missed)} targets are missed" in prose.replace("Three", "3")
    silent = sum(s["unresolved_silent"] for s in sources.values())
    unresolved = report["runs"] - report["resolved"]
    assert f"{silent} of the {unresolved} unresolved runs have no" in prose
    pooled = report["pooled"]
    assert f"({pooled['held_out_source']['value']:.2f} held out by source" in prose
    assert f"the model reaches {pooled['current']['value']:.2f}" in prose
    for name, label in (("autocoderover-gpt4-0125-swebench-lite", "AutoCodeRover"),
                        ("minisweagent-2.2.7-deepseekchat-swebench-lite", "DeepSeek")):
        row = sources[name]
        assert f"{label} ({row['score']['value']:.2f} against its cost's " \
               f"{row['cost']['value']:.2f}" in prose
        assert f"{row['unresolved_silent']} of {row['runs'] - row['resolved']} unresolved" in \
            prose.replace("its 65", "65").replace("of 38", "of 38")
    acr = report["features"]["tokens"]["autocoderover-gpt4-0125-swebench-lite"]
    assert f"`tokens` row: {acr:.2f}" in prose


@needs_corpus
def test_the_calibration_dashboard_shows_the_reliability_diagram_and_lift(subset: Path,
                                                                          tmp_path: Path
                                                                          ) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium not installed (scripts/test.sh installs Debian's chromium "
                    "when run as root)")
    run = tb("calibrate", str(subset), "--html", str(tmp_path / "cal.html"),
             "--json", str(tmp_path / "cal.json"))
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "cal.json").read_text())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto((tmp_path / "cal.html").as_uri())
        page.wait_for_selector("#traces tbody tr")
        assert page.locator("#traces tbody tr").count() == 12
        # Each run shows the verifier's verdict as its outcome.
        outcomes = page.locator("#traces tbody td:nth-child(3)").all_text_contents()
        assert sorted(outcomes) == ["failed"] * 6 + ["passed"] * 6
        page.click("#nav-calibration")
        page.wait_for_selector("#reliability")
        assert page.locator("#reliability circle.bin").count() == len(report["calibration"])
        rows = page.locator("#lift-table tbody tr")
        assert rows.count() == len(report["detectors"])
        first = report["detectors"][0]
        assert rows.nth(0).locator("td").nth(0).text_content() == first["detector"]
        held_out = report["pooled"]["held_out_source"]["value"]
        assert page.text_content("#cal-loso").count(f"{held_out:.2f}") == 1
        assert page.locator("#cal-sources tbody tr").count() == 3
        assert page.locator("#cal-targets li").count() == len(report["targets"])
        # A run's page shows why it scored what it did.
        page.goto((tmp_path / "cal.html").as_uri())
        page.wait_for_selector("#traces tbody tr")
        page.locator("#traces tbody tr a").first.click()
        page.wait_for_selector("#breakdown")
        assert "a typical run" in page.text_content("#breakdown")
        browser.close()
    assert errors == []


def test_the_readme_states_the_measured_figures() -> None:
    import re

    report = CalibrationReport.model_validate_json(PUBLISHED.read_text())
    text = (REPO / "README.md").read_text()
    held_out = re.search(r"AUROC of (\d\.\d\d) pooled \(the run's cost alone: (\d\.\d\d)\)",
                         text)
    assert held_out is not None
    assert float(held_out.group(1)) == round(report.pooled["held_out_source"].value or 0, 2)
    assert float(held_out.group(2)) == round(report.pooled["cost"].value or 0, 2)
    assert f"{report.runs} real runs of {len(report.sources)} agent/benchmark sources" in \
        " ".join(text.split())
