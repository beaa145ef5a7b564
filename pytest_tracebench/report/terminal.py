"""The terminal report, in the seed's shape: per trace the findings with their steps and
``Score: N/100``, then the cluster histogram. Compact for a suite, full with ``verbose``.

Every string that came from an agent is cleaned of control characters, so a crafted trace
cannot move the cursor, recolour or retitle the user's terminal.
"""

from __future__ import annotations

from pytest_tracebench.models import EvaluationReport, TraceResult
from pytest_tracebench.score.clusters import per_detector
from pytest_tracebench.score.scoring import breakdown

# ``clean`` moved to the neutral ``text`` module (the replay viewer, a lower stage, uses it too);
# re-exported here for the callers that print with the report.
from pytest_tracebench.text import clean as clean

_FULL_UP_TO = 3


def _name(result: TraceResult) -> str:
    return clean(result.nodeid or result.task_id)


def _rate(rate: float | None, judged: int, traces: int) -> str:
    """``40%``, or ``0% of 6 judged`` when only some traces have a known outcome: a pass rate
    of a few aborted runs among many without a verdict must not read as the suite's."""
    if rate is None:
        return "n/a"
    text = f"{rate * 100:.0f}%"
    return f"{text} of {judged} judged" if 0 < judged < traces else text


def _findings(result: TraceResult, verbose: bool) -> list[str]:
    if not result.findings:
        return ["- no findings"]
    lines = []
    for finding in result.findings:
        where = f"Step {finding.steps[0] + 1}" if finding.steps else "Run"
        severity = f" [{finding.severity}]" if verbose else ""
        lines.append(f"- {where}: {finding.detector}{severity} -> {clean(finding.message)}")
    return lines


def _score_lines(result: TraceResult, verbose: bool) -> list[str]:
    if result.score is None:
        return ["Score: n/a"]
    lines = [f"Score: {result.score.value:g}/100"]  # as the breakdown adds up, not rounded
    if verbose:
        for number, (points, what) in enumerate(breakdown(result.score)):
            shown = f"{points:g}" if number == 0 else f"{points:+g}"
            lines.append(f"  {shown} {clean(what)}")
    return lines


_CLUSTERS_SHOWN = 15


def _cluster_lines(report: EvaluationReport, width: int = 40) -> list[str]:
    """The histogram of the report's clusters: the same clustering the JSON report and the
    dashboard show (one bar per failure signature, not per detector), each with its
    masked message so that two clusters of one detector read apart."""
    clusters = report.clusters
    if not clusters:
        return ["(no findings)"]
    shown = clusters[:_CLUSTERS_SHOWN]
    label = max(len(clean(c.detector)) for c in shown) + 2
    top = max(c.count for c in shown)
    bars = ["#" * max(1, round(c.count / top * width)) if top > width else "#" * c.count
            for c in shown]
    bar_width = max(len(bar) for bar in bars)
    lines = []
    for entry, bar in zip(shown, bars, strict=True):
        template = clean(entry.signature.split(" | ", 2)[-1])
        template = template if len(template) <= 90 else template[:89] + "…"
        count = f"({entry.count})"
        lines.append(f"{clean(entry.detector):<{label}}{bar:<{bar_width}} {count:>6}  "
                     f"{template}")
    rest = clusters[_CLUSTERS_SHOWN:]
    if rest:
        lines.append(f"... {len(rest)} more cluster(s), {sum(c.count for c in rest)} "
                     f"finding(s): -v, the JSON report or the dashboard list them all")
    return lines


def render_terminal(report: EvaluationReport, *, verbose: bool = False) -> list[str]:
    """The report as lines of text."""
    results = report.results
    lines: list[str] = []
    if len(results) <= _FULL_UP_TO or verbose:
        for result in results:
            title = "" if len(results) == 1 else f": {_name(result)} ({clean(result.agent)})"
            lines.append(f"=== Failure Report{title} ===")
            lines.extend(_findings(result, verbose))
            lines.append("")
            lines.append("=== Trace Score ===")
            lines.extend(_score_lines(result, verbose))
            lines.append("")
    else:
        width = min(70, max(len(_name(r)) for r in results))
        lines.append(f"{'trace':<{width}}  score  outcome  steps  findings")
        for result in results:
            counts = per_detector([result])
            found = ", ".join(f"{d}" + (f" x{n}" if n > 1 else "") for d, n in counts.items())
            score = f"{result.score.value:5.1f}" if result.score is not None else "  n/a"
            outcome = result.score.outcome if result.score is not None else "?"
            name = _name(result)
            name = name if len(name) <= width else "…" + name[-(width - 1):]
            lines.append(f"{name:<{width}}  {score}  {clean(outcome):<7}  "
                         f"{result.step_count:5}  {clean(found) or '-'}")
        lines.append("")
    lines.append("=== Failure Clusters ===")
    lines.extend(_cluster_lines(report))
    if verbose and report.clusters:
        lines.append("")
        for cluster in report.clusters:
            lines.append(f"{cluster.count:4}x in {len(cluster.traces)} trace(s): "
                         f"{clean(cluster.signature)}")
            example = cluster.examples[0]
            step = f"step {example.steps[0] + 1}" if example.steps else "run"
            lines.append(f"      e.g. {clean(example.task_id)} {step}: "
                         f"{clean(example.message)[:150]}")
    summary = report.summary
    if summary.per_agent:
        lines.append("")
        lines.append("=== Agents ===")
        width = max(len(name) for name in summary.per_agent) + 2
        for name, row in summary.per_agent.items():
            mean = row.get("mean_score")
            rate = _rate(row.get("pass_rate"), int(row.get("judged") or 0),
                         int(row.get("traces") or 0))
            lines.append(f"{clean(name):<{width}}score {'n/a' if mean is None else f'{mean:g}'}"
                         f"  pass rate {rate}"
                         f"  findings {int(row.get('findings') or 0)}"
                         f"  traces {int(row.get('traces') or 0)}")
    lines.append("")
    parts = [f"{summary.traces} trace(s)"]
    if summary.mean_score is not None:
        ci = f" (95% CI {summary.score_ci95[0]:g}-{summary.score_ci95[1]:g})" \
            if summary.score_ci95 else ""
        parts.append(f"mean score {summary.mean_score:g}{ci}")
    if summary.pass_rate is not None:
        rate = f"pass rate {_rate(summary.pass_rate, summary.judged, summary.traces)}"
        if summary.gate_failed:
            # The pass rate is the tests' own verdict; pytest counts the gated ones as failed.
            rate += f" before gates ({summary.gate_failed} failed a per-test gate)"
        parts.append(rate)
    elif summary.gate_failed:
        parts.append(f"{summary.gate_failed} failed a per-trace gate")
    for k, value in summary.pass_at_k.items():
        parts.append(f"pass@{k} {value:.2f}")
    parts.append(f"{sum(summary.findings_per_detector.values())} finding(s)")
    lines.append(", ".join(parts))
    if verbose and summary.score_spread:
        lines.append("score spread over repeated runs:")
        for key, spread in summary.score_spread.items():
            lines.append(f"  {clean(key)}: {spread['min']:g}-{spread['max']:g} "
                         f"(sd {spread['stdev']:g}, {int(spread['runs'])} runs)")
    for gate in report.gates:
        mark = "PASSED" if gate.passed else "FAILED"
        # A gate's message can name tasks (per-trace gates): one line, whatever they hold.
        lines.append(clean(f"gate {gate.name}: {mark}: {gate.message}"))
    return lines
