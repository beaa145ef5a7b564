"""The summary of a suite: pass rate, mean score with its confidence interval, pass@k over
repeated runs, per agent and per task; what the terminal's last line and the dashboard's cards
show."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence

from pytest_tracebench.models import Summary, TraceResult
from pytest_tracebench.score.scoring import outcome_of

__all__ = ["BOOTSTRAP_MAX_N", "bootstrap_ci", "pass_at_k", "summarize_results"]


def bootstrap_ci(values: Sequence[float], *, resamples: int = 2000, seed: int = 7,
                 level: float = 0.95) -> tuple[float, float] | None:
    """Confidence interval of the mean, deterministic (fixed seed).

    Up to ``BOOTSTRAP_MAX_N`` values: the percentile bootstrap, which makes no assumption about
    the shape of the scores (they are bounded and often bimodal). Beyond that the sample mean is
    normal to well within the interval's rounding, and the bootstrap's ``resamples * n`` draws
    would dominate a large session's report, so the normal interval is used instead.
    """
    if len(values) < 2:
        return None
    n = len(values)
    if n > BOOTSTRAP_MAX_N:
        mean = sum(values) / n
        z = statistics.NormalDist().inv_cdf((1 + level) / 2)
        half = z * statistics.stdev(values) / math.sqrt(n)
        return (round(mean - half, 2), round(mean + half, 2))
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(values, k=n)) / n for _ in range(resamples))
    low = means[int((1 - level) / 2 * resamples)]
    high = means[min(resamples - 1, int((1 + level) / 2 * resamples))]
    return (round(low, 2), round(high, 2))


BOOTSTRAP_MAX_N = 200


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimate from ``n`` runs of which ``c`` passed."""
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _repeats(results: Sequence[TraceResult]
             ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    groups: dict[str, list[TraceResult]] = defaultdict(list)
    for result in results:
        groups[f"{result.task_id} [{result.agent}]"].append(result)
    runs = min((len(g) for g in groups.values()), default=0)
    if runs < 2:
        return {}, {}
    estimates: dict[str, list[float]] = {"1": [], str(runs): []}
    spread: dict[str, dict[str, float]] = {}
    for key, group in sorted(groups.items()):
        n = len(group)
        c = sum(1 for r in group if outcome_of(r) == "passed")
        estimates["1"].append(pass_at_k(n, c, 1))
        estimates[str(runs)].append(pass_at_k(n, c, runs))
        values = [r.score.value for r in group if r.score is not None]
        if values:
            spread[key] = {"runs": float(n), "min": min(values), "max": max(values),
                           "stdev": round(statistics.pstdev(values), 2)}
    return {k: round(statistics.fmean(v), 4) for k, v in estimates.items()}, spread


def summarize_results(results: Sequence[TraceResult]) -> Summary:
    """Suite-level numbers: mean score with a 95% bootstrap CI, pass rate, counts."""
    scores = [r.score.value for r in results if r.score is not None]
    outcomes = [outcome_of(r) for r in results]
    known = [o for o in outcomes if o != "unknown"]
    per_detector: Counter[str] = Counter()
    per_category: Counter[str] = Counter()
    for result in results:
        for finding in result.findings:
            per_detector[finding.detector] += 1
            per_category[finding.category] += 1
    pass_at_k, spread = _repeats(results)
    agents: dict[str, list[TraceResult]] = defaultdict(list)
    for result in results:
        agents[result.agent].append(result)
    per_agent: dict[str, dict[str, float | None]] = {}
    if len(agents) > 1:
        for name, group in sorted(agents.items()):
            scored = [r.score.value for r in group if r.score is not None]
            judged = [outcome_of(r) for r in group if outcome_of(r) != "unknown"]
            per_agent[name] = {
                "traces": float(len(group)),
                "mean_score": round(statistics.fmean(scored), 2) if scored else None,
                "pass_rate": round(judged.count("passed") / len(judged), 4) if judged else None,
                "judged": float(len(judged)),
                "findings": float(sum(len(r.findings) for r in group)),
            }
    return Summary(
        per_agent=per_agent,
        pass_at_k=pass_at_k,
        score_spread=spread,
        traces=len(results),
        mean_score=round(statistics.fmean(scores), 2) if scores else None,
        score_ci95=bootstrap_ci(scores),
        pass_rate=round(sum(1 for o in known if o == "passed") / len(known), 4) if known
        else None,
        judged=len(known),
        gate_failed=sum(1 for r in results if r.gate),
        findings_per_detector=dict(sorted(per_detector.items())),
        findings_per_category=dict(sorted(per_category.items())),
        steps=sum(r.step_count for r in results),
        tokens=sum(r.tokens for r in results),
    )
