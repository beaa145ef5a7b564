"""Hook specifications: the extension surface of TraceBench.

A plugin is a module or object with functions named like these and marked with
:data:`pytest_tracebench.hookimpl`. Built-in features are registered the same way, so anything
a built-in does, a third-party package can do (entry-point group ``tracebench``) and a project can
do (module names in the ``tracebench_plugins`` setting).

Each specification below is the documentation of its hook; ``docs/hooks.md`` lists them and a
test keeps the two in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from pytest_tracebench.models import Score, Trace, TraceResult
    from pytest_tracebench.settings import Settings

__all__ = [
    "hookimpl",
    "hookspec",
    "tracebench_detectors",
    "tracebench_importers",
    "tracebench_redaction_patterns",
    "tracebench_reward",
    "tracebench_score",
    "tracebench_trace_finished",
]

hookspec = pluggy.HookspecMarker("tracebench")
hookimpl = pluggy.HookimplMarker("tracebench")


@hookspec
def tracebench_redaction_patterns(settings: Settings) -> list[Any]:
    """Return ``(name, regex)`` pairs (or :class:`~pytest_tracebench.record.redaction.Rule` objects)
    of secrets to redact before a trace is written.

    Every match is replaced by ``[REDACTED]``; a regex with groups has only its first matching
    group replaced (a ``Rule`` can name another), and a group named ``keep`` is kept instead
    (``password=`` in ``password=hunter2``). A pair's keywords (the literals that let a text
    without them skip the regex) are derived from its regex; give a ``Rule`` explicit
    ``keywords`` when they cannot be. All plugins' lists are combined; the built-in rules
    (``secret_rules.toml``: provider keys and tokens, private keys, credentials on command
    lines, in URLs and connection strings, ``password=``-style pairs) come first. Called once
    per session.
    """
    raise NotImplementedError


@hookspec
def tracebench_detectors(settings: Settings) -> list[Any]:
    """Return detector objects to run on every trace.

    A detector has a ``name``, a ``category``, a one-line ``description`` and
    ``detect(trace) -> Iterable[Finding]``. All plugins' lists are combined; settings select,
    disable and tune them afterwards.

    Thresholds, the same for built-in and third-party detectors: a detector declares the ones
    it can be tuned by as ``thresholds``, a mapping of each name to its default, and reads the
    values in effect from ``options``. Settings (``[tool.tracebench.thresholds.NAME]``,
    ``--tracebench-thresholds NAME.KEY=VALUE``) tune it in one way: names it does not declare
    are refused, and the detector is rebuilt as ``type(detector)(**overrides)``, so its class
    takes each threshold as a keyword argument. Subclassing
    :class:`pytest_tracebench.detectors.Detector` provides all of this (values converted to
    the default's type). ``tracebench detectors`` lists each detector with its thresholds.

    What a trace's steps mean (actions, test runs, edits, messages, checks) is read from
    :func:`pytest_tracebench.detectors.view.view_of`, the :class:`~pytest_tracebench.TraceView`
    the built-in detectors share: built once per trace for all detectors.
    """
    raise NotImplementedError


@hookspec
def tracebench_importers() -> list[Any]:
    """Return importer objects for trajectory formats of other agents.

    An importer has a ``name`` (used with ``--format``), a one-line ``description``,
    ``sniff(path, head) -> bool`` (``head`` holds the file's first 64 KiB, plus its last 8 KiB
    when larger; ``b""`` for a directory) and ``load(path) -> list[Trace]``. All plugins' lists
    are combined in registration order, built-ins first; detection takes the first importer
    whose ``sniff`` is true.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def tracebench_score(result: TraceResult, settings: Settings) -> Score | None:
    """Replace the built-in score of one analysed trace: return a ``Score``, or ``None`` to
    leave it to the next plugin (and finally to the built-in severity-weighted score)."""
    raise NotImplementedError


@hookspec(firstresult=True)
def tracebench_reward(result: TraceResult, score: Score) -> float | None:
    """Shape the reward of a scored trace for RL loops: return a float (clipped to [0, 1]),
    or ``None`` to keep ``score.reward``."""
    raise NotImplementedError


@hookspec
def tracebench_trace_finished(trace: Trace, path: str | None) -> None:
    """Called when a recorder has written the end record of a trace (``path`` is ``None`` when
    nothing was written to disk). Use it to ship traces elsewhere; an exception is reported as a
    warning and never breaks the run."""
