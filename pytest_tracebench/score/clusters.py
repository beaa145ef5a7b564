"""Cluster analysis: the recurring failures of an agent across a suite.

Each finding gets a *signature*: its detector, the kind of step it is about, and its message
with the variable parts masked (numbers, paths, test ids, hex ids, quoted strings, timestamps).
Findings with the same signature form a cluster; clusters roll up into categories (runtime
instability, repeated retries, incomplete reasoning, invalid fixes, ...). One pass over the
findings plus a sort of the clusters: deterministic, and near-linear in the number of findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pytest_tracebench.models import Cluster, ClusterExample, Finding, TraceResult

_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"`[^`]*`"), "`<q>`"),
    (re.compile(r'"[^"]*"'), '"<q>"'),
    (re.compile(r"(?<![\w])'[^'\n]*'"), "'<q>'"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"),
     "<time>"),
    # A test id ends with a word character or its parameters ("[...]"): the closing ")" or
    # "." around it belongs to the message, and eating it left titles unbalanced.
    (re.compile(r"\b[\w./-]+::[\w.:-]*\w(?:\[[^\]\s]*\])?"), "<test>"),
    (re.compile(r"(?:[A-Za-z]:)?(?:[\w.-]*[/\\])+[\w.-]+"), "<path>"),
    (re.compile(r"\b[\w-]+\.(?:py|js|ts|go|rs|java|c|h|cpp|rb|md|json|toml|cfg|ini|txt|v)\b"),
     "<path>"),
    (re.compile(r"\b[0-9a-f]{7,}\b", re.I), "<hex>"),
    (re.compile(r"\b\d+(?:\.\d+)?%?"), "<n>"),
)
#: One failing test or several is the same failure: both read "<test>...".
_TEST_LISTS = re.compile(r"<test>(?:,\s*<test>)*(?: and <n> more)?")
_LISTS = re.compile(r"(<(?:path|q)>)(?:,\s*<(?:path|q)>)+(?: and <n> more)?")
_SPACES = re.compile(r"\s+")


def message_template(message: str) -> str:
    """The message with its variable parts masked, so similar findings compare equal."""
    text = message
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    text = _TEST_LISTS.sub("<test>...", text)
    text = _LISTS.sub(r"\1...", text).replace("....", "...")
    return _SPACES.sub(" ", text).strip()


def signature(finding: Finding) -> str:
    """``detector | step kind | message template``."""
    return f"{finding.detector} | {finding.step_kind or '-'} | {message_template(finding.message)}"


def cluster(results: Iterable[TraceResult], *, examples: int = 3) -> list[Cluster]:
    """Clusters of the findings of ``results``, largest first (ties by signature)."""
    clusters: dict[str, Cluster] = {}
    # Which traces each cluster already lists: a set beside the list, since looking in the
    # list made clustering quadratic (100,000 traces: minutes instead of seconds).
    listed: dict[str, set[str]] = {}
    for result in results:
        for finding in result.findings:
            key = signature(finding)
            entry = clusters.get(key)
            if entry is None:
                entry = Cluster(signature=key, detector=finding.detector,
                                category=finding.category, count=0)
                clusters[key] = entry
                listed[key] = set()
            entry.count += 1
            if result.trace_id not in listed[key]:
                listed[key].add(result.trace_id)
                entry.traces.append(result.trace_id)
            if len(entry.examples) < examples and all(
                    e.trace_id != result.trace_id for e in entry.examples):
                entry.examples.append(ClusterExample(
                    trace_id=result.trace_id, task_id=result.task_id,
                    steps=list(finding.steps), message=finding.message))
    return sorted(clusters.values(), key=lambda c: (-c.count, c.signature))


def per_detector(results: Iterable[TraceResult]) -> dict[str, int]:
    """Number of findings per detector (the seed's cluster histogram)."""
    counts: dict[str, int] = {}
    for result in results:
        for finding in result.findings:
            counts[finding.detector] = counts.get(finding.detector, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
