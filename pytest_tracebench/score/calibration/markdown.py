"""The calibration report as Markdown tables, written into a document between two markers.

``tracebench calibrate RUNS --markdown docs/detectors.md`` replaces what stands between
``<!-- calibrate:begin -->`` and ``<!-- calibrate:end -->`` (or writes a new file), so the
measured tables in the docs are the output of one command, never typed by hand; a test
renders the committed JSON again and compares.
"""

from __future__ import annotations

from pathlib import Path

from pytest_tracebench.score.calibration.features import FEATURES
from pytest_tracebench.score.calibration.fit import MIN_FIRES, MIN_LIFT
from pytest_tracebench.score.calibration.measure import Auroc
from pytest_tracebench.score.calibration.report import CalibrationReport

BEGIN = "<!-- calibrate:begin -->"
END = "<!-- calibrate:end -->"


def _n(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _a(value: Auroc | None) -> str:
    if value is None or value.value is None:
        return "n/a"
    if value.low is None:
        return f"{value.value:.2f}"
    return f"{value.value:.2f} ({value.low:.2f}-{value.high:.2f})"


def markdown(report: CalibrationReport) -> str:
    """The tables, as Markdown (no markers)."""
    pooled = report.pooled
    out = [
        f"Measured on {report.runs} verified runs ({report.resolved} resolved) of "
        f"{len(report.sources)} sources; 95% intervals from a bootstrap over tasks. Generated "
        f"by `{report.model.fitted_on.get('command') or 'tracebench calibrate'}`.",
        "",
        "| ranking of resolved above unresolved runs | AUROC |",
        "|---|---|",
        f"| the score, each source held out (fitted on the other {len(report.sources) - 1}) | "
        f"{_a(pooled.get('held_out_source'))} |",
        f"| the score, tasks held out (5 folds) | {_a(pooled.get('held_out_task'))} |",
        f"| the shipped score (fitted on all runs) | {_a(pooled.get('current'))} |",
        f"| the run's cost alone (runs that record it) | {_a(pooled.get('cost'))} |",
        f"| the number of actions alone | {_a(pooled.get('steps'))} |",
        "",
        "| source | runs | resolved | score, held out | cost alone | actions alone | "
        "unresolved, no finding | resolved, costly finding |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report.sources:
        out.append(f"| `{row.source}` | {row.runs} | {row.resolved} | {_a(row.score)} | "
                   f"{_a(row.cost)} | {_a(row.steps)} | {row.unresolved_silent} | "
                   f"{row.resolved_flagged} |")
    weights = report.model.detector_weights()
    sources = [row.source for row in report.sources]
    out += [
        "",
        f"Detectors: fires on unresolved / resolved runs; precision = P(unresolved | fires); "
        f"lift = precision / P(unresolved) (1.00 = no better than chance, the most possible "
        f"is {_n(report.runs / max(1, report.runs - report.resolved))}); recall = share of "
        f"unresolved runs it fires on; the lowest lift over the sources where it fires on "
        f"{MIN_FIRES} or more runs; and the weight it has in the score (a detector costs "
        f"points only with a lift of {MIN_LIFT} or more, pooled, and 1.0 or more in every "
        f"source).",
        "",
        "| detector | fires (unres. / res.) | precision | lift | lowest source lift | recall "
        "| on resolved runs | weight |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in report.detectors:
        worst = [x.lift for s in sources for x in report.per_source.get(s, [])
                 if x.detector == m.detector and x.lift is not None
                 and x.fires_resolved + x.fires_unresolved >= MIN_FIRES]
        weight = weights.get(m.detector, 0.0)
        out.append(f"| `{m.detector}` | {m.fires_unresolved} / {m.fires_resolved} | "
                   f"{_n(m.precision)} | {_n(m.lift)} | {_n(min(worst) if worst else None)} | "
                   f"{_n(m.recall)} | {_n(m.resolved_rate)} | "
                   f"{f'{weight:+.2f}' if weight else '-'} |")
    out += ["", "| detector | against the verifier's per-test results | runs | precision | "
                "recall |", "|---|---|---|---|---|"]
    for item in report.agreement:
        out.append(f"| `{item.detector}` | {item.truth.replace('_', ' ')} | {item.runs} | "
                   f"{_n(item.precision)} | {_n(item.recall)} |")
    out += ["", f"Calibration of the held-out predictions (expected calibration error "
                f"{_n(report.ece, 3)}):", "",
            "| predicted chance | runs | mean predicted | resolved |", "|---|---|---|---|"]
    for b in report.calibration:
        out.append(f"| {b.low:.1f}-{b.high:.1f} | {b.n} | {b.predicted:.2f} | "
                   f"{b.observed:.2f} |")
    out += ["", f"The score model fitted on all {report.runs} runs (shipped as "
                f"`pytest_tracebench/score/score_model.json`): reference chance "
                f"{100 / (1 + 2.718281828459045 ** -report.model.intercept):.1f}% "
                f"(intercept {report.model.intercept:+.2f}).", "",
            "| term | weight (log-odds) | reference | what it reads |", "|---|---|---|---|"]
    for term in report.model.terms:
        if not term.weight:
            continue
        if term.kind == "detector":
            what = "the detector found something (info findings aside)"
            ref = "-"
        else:
            feature = FEATURES.get(term.name)
            what = feature.description if feature else term.name
            ref = feature.shown(term.reference) if feature else f"{term.reference:g}"
        out.append(f"| `{term.name}` | {term.weight:+.2f} | {ref} | {what} |")
    if report.features:
        out += ["", "Each behaviour feature alone: AUROC per source (above 0.50, runs with "
                    "more of it pass more often; below, less often). Features marked *measured "
                    "only* are candidates the score does not weigh: they do not point the same "
                    "way across sources.", "",
                "| feature | " + " | ".join(f"`{s[:18]}`" for s in sources) + " | pooled |",
                "|---|" + "---|" * (len(sources) + 1)]
        for name, by in report.features.items():
            feature = FEATURES.get(name)
            label = f"`{name}`" + (" *measured only*" if feature and feature.candidate else "")
            out.append(f"| {label} | " + " | ".join(_n(by.get(s)) for s in sources)
                       + f" | {_n(by.get('pooled'))} |")
    out += ["", "| target | goal | measured | |", "|---|---|---|---|"]
    for target in report.targets:
        mark = "n/a" if target.met is None else ("met" if target.met else "**missed**")
        out.append(f"| {target.measure} | {target.target} | {target.value} | {mark} |")
    return "\n".join(out)


def write_markdown(report: CalibrationReport, path: Path) -> None:
    """Replace the block between the markers in ``path`` (or write a file holding only it)."""
    block = f"{BEGIN}\n{markdown(report)}\n{END}"
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        start, end = text.find(BEGIN), text.find(END)
        if start >= 0 and end > start:
            text = text[:start] + block + text[end + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
    else:
        text = block + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def block_of(text: str) -> str | None:
    """The generated block of a document (without markers), or ``None``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start + len(BEGIN):end].strip("\n")
