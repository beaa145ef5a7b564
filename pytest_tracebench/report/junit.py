"""JUnit XML properties of a test's result (pytest ``--junit-xml``).

pytest's JUnit writer turns a test's ``user_properties`` into ``<property>`` entries; this
says which ones a result gives, so a CI system that reads only JUnit sees the score and the
findings per detector. No pytest here: the plugin puts them on the item and the report.
"""

from __future__ import annotations

from collections import Counter

from pytest_tracebench.models import TraceResult

__all__ = ["junit_properties"]


def junit_properties(result: TraceResult) -> list[tuple[str, object]]:
    """``tracebench_score``, ``tracebench_findings``, one ``tracebench_findings_<detector>``
    per detector that found something (sorted), and ``tracebench_trace`` (the trace file)."""
    props: list[tuple[str, object]] = []
    if result.score is not None:
        props.append(("tracebench_score", result.score.value))
    props.append(("tracebench_findings", len(result.findings)))
    counts = Counter(finding.detector for finding in result.findings)
    props.extend((f"tracebench_findings_{detector}", count)
                 for detector, count in sorted(counts.items()))
    if result.path:
        props.append(("tracebench_trace", result.path))
    return props
