"""Measure the built-in detectors against ground truth on the real runs in tests/data/real.

Only the trajectory is given to the pipeline; the harness's verdicts (SWE-bench report.json,
Terminal-Bench reward.txt) are read afterwards to score the findings. Prints the per-run table
and precision/recall as Markdown (the source of the numbers in docs/detectors.md).

    .venv/bin/python scripts/detector_eval.py
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_tracebench.importers import import_path
from pytest_tracebench.pipeline import Pipeline

REAL = Path(__file__).resolve().parents[1] / "tests" / "data" / "real"
SERIOUS = ("medium", "high", "critical")


@dataclass
class Run:
    name: str
    source: str
    resolved: bool
    regression: bool
    fired: dict[str, list[str]]


def ground_truth_swebench(folder: Path) -> tuple[bool, bool]:
    report = json.loads((folder / "report.json").read_text())
    entry = report if "resolved" in report else next(iter(report.values()))
    p2p = entry.get("tests_status", {}).get("PASS_TO_PASS", {})
    return bool(entry["resolved"]), bool(p2p.get("failure"))


def runs() -> list[Run]:
    pipeline = Pipeline.from_settings()
    out = []
    for folder in sorted((REAL / "mini-swe-agent").iterdir()):
        (trace,) = import_path(next(folder.glob("*.traj.json")))
        resolved, regression = ground_truth_swebench(folder)
        out.append(_run(pipeline, folder.name, "mini-swe-agent", trace, resolved, regression))
    for folder in sorted((REAL / "terminal-bench-claude-code").iterdir()):
        (trace,) = import_path(folder / "trajectory.json")
        resolved = (folder / "reward.txt").read_text().strip().startswith("1")
        out.append(_run(pipeline, folder.name.split("__")[0], "claude-code (ATIF)", trace,
                        resolved, False))
    return out


def _run(pipeline: Pipeline, name: str, source: str, trace: object, resolved: bool,
         regression: bool) -> Run:
    result = pipeline.analyze(trace)  # type: ignore[arg-type]
    fired: dict[str, list[str]] = {}
    for finding in result.findings:
        fired.setdefault(finding.detector, []).append(finding.severity)
    return Run(name, source, resolved, regression, fired)


def serious(run: Run, detector: str) -> bool:
    return any(s in SERIOUS for s in run.fired.get(detector, []))


def pr(pairs: list[tuple[bool, bool]]) -> str:
    tp = sum(1 for fired, truth in pairs if fired and truth)
    fp = sum(1 for fired, truth in pairs if fired and not truth)
    fn = sum(1 for fired, truth in pairs if not fired and truth)
    precision = f"{tp / (tp + fp):.2f}" if tp + fp else "n/a"
    recall = f"{tp / (tp + fn):.2f}" if tp + fn else "n/a"
    return f"precision {precision} ({tp}/{tp + fp}), recall {recall} ({tp}/{tp + fn})"


def main() -> None:
    all_runs = runs()
    print("| run | agent | verdict | incomplete_resolution | regression | "
          "false_success_claim | other findings |")
    print("|---|---|---|---|---|---|---|")
    for run in all_runs:
        verdict = "resolved" if run.resolved else "unresolved"
        if run.regression:
            verdict += " (regression)"
        others = ", ".join(f"{d} ({'/'.join(s)})" for d, s in sorted(run.fired.items())
                           if d not in ("incomplete_resolution", "regression",
                                        "false_success_claim")) or "-"
        cells = ["/".join(run.fired.get(d, [])) or "-" for d in
                 ("incomplete_resolution", "regression", "false_success_claim")]
        print(f"| {run.name} | {run.source} | {verdict} | {' | '.join(cells)} | {others} |")
    print()
    print("- incomplete_resolution (medium or higher) predicts unresolved: "
          + pr([(serious(r, "incomplete_resolution"), not r.resolved) for r in all_runs]))
    print("- regression predicts a PASS_TO_PASS failure (SWE-bench runs): "
          + pr([(bool(r.fired.get("regression")), r.regression) for r in all_runs
                if r.source == "mini-swe-agent"]))
    print("- false_success_claim (any severity) predicts a success claim on an unresolved "
          "run: " + pr([(bool(r.fired.get("false_success_claim")), not r.resolved)
                        for r in all_runs]))
    for detector in ("false_success_claim", "test_tampering"):
        on_resolved = [r.name for r in all_runs if r.resolved and r.fired.get(detector)]
        print(f"- {detector} on resolved runs: {', '.join(on_resolved) or 'none'}")


if __name__ == "__main__":
    main()
