"""The data model of TraceBench: traces, findings, scores, clusters and reports.

Every stage of the pipeline reads and writes these models, so they are the contract between the
recorder, the importers, the detectors, the scorer, the analyzer and the reports. Fields are
documented with attribute docstrings, which pydantic turns into JSON Schema descriptions
(``tracebench schema`` prints them).

A trace on disk is JSON Lines: one :class:`TraceHeader`, one :class:`Step` per line, and a final
:class:`TraceEnd`. The same models also load from a single JSON document (:class:`Trace`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "SEVERITIES",
    "STEP_KINDS",
    "TRACE_SCHEMA_VERSION",
    "AgentInfo",
    "Cluster",
    "ClusterExample",
    "ComparedValue",
    "Comparison",
    "DetectorComparison",
    "EndStatus",
    "EvaluationReport",
    "FeatureTerm",
    "Finding",
    "Gate",
    "Penalty",
    "Score",
    "Severity",
    "SourceInfo",
    "Step",
    "StepKind",
    "Summary",
    "TaskComparison",
    "TaskInfo",
    "Trace",
    "TraceEnd",
    "TraceHeader",
    "TraceResult",
]

#: Version of the trace file format written by this release. Readers refuse newer versions.
TRACE_SCHEMA_VERSION = 1
#: Version of the evaluation report (JSON) written by this release.
REPORT_SCHEMA_VERSION = 1

StepKind = Literal["llm", "message", "tool", "command", "read", "edit", "test", "submit", "error"]
"""The step vocabulary detectors rely on (see ``docs/trace-format.md`` for each kind's fields)."""

STEP_KINDS: tuple[str, ...] = (
    "llm",
    "message",
    "tool",
    "command",
    "read",
    "edit",
    "test",
    "submit",
    "error",
)

EndStatus = Literal["completed", "failed", "error", "skipped", "timeout", "aborted"]
Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")


class _OpenModel(BaseModel):
    """A model that keeps fields it does not know, so newer writers lose nothing on old readers."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="allow")


class TaskInfo(_OpenModel):
    """What the agent was asked to do."""

    id: str = ""
    """Stable task identifier (a benchmark task name, a SWE-bench instance id, a pytest node id)."""
    name: str | None = None
    """Human-readable task name."""
    description: str | None = None
    """The issue text or instruction given to the agent."""
    nodeid: str | None = None
    """The pytest node id of the test that recorded the trace, when recorded under pytest."""
    budget: dict[str, float] = Field(default_factory=dict)
    """Limits for the run (``steps``, ``tokens``, ``cost_usd``, ``seconds``), set by the marker."""


class AgentInfo(_OpenModel):
    """Which agent produced the trace."""

    name: str = "unknown"
    """Agent name (``mini-swe-agent``, ``claude-code``, ``repair-agent``, ...)."""
    model: str | None = None
    """Model identifier, when the agent uses one."""
    version: str | None = None
    """Agent version."""


class SourceInfo(_OpenModel):
    """Where a trace came from when it was imported rather than recorded."""

    format: str = "tracebench"
    """Format name of the original file (``tracebench``, ``seed``, ``mini-swe-agent``, ...)."""
    path: str | None = None
    """Path of the original file."""


class TraceHeader(_OpenModel):
    """First line of a trace file: identity of the run."""

    type: Literal["trace"] = "trace"
    """Record discriminator; always ``trace``."""
    schema_version: int = TRACE_SCHEMA_VERSION
    """Trace format version. Readers refuse versions newer than they know."""
    trace_id: str
    """Unique id of this run (hex)."""
    task: TaskInfo = Field(default_factory=TaskInfo)
    """The task the agent worked on."""
    agent: AgentInfo = Field(default_factory=AgentInfo)
    """The agent that did the work."""
    started_at: float | None = None
    """Start of the run, seconds since the Unix epoch."""
    source: SourceInfo = Field(default_factory=SourceInfo)
    """Origin of the trace (recorded here, or imported from another format)."""
    meta: dict[str, Any] = Field(default_factory=dict)
    """Free metadata (environment, seed, repetition number, ...)."""


class Step(_Model):
    """One thing the agent did.

    ``input`` and ``output`` are free JSON values; each kind has well-known keys that detectors read
    (``command``: ``input.command`` and ``output.exit_code/stdout/stderr``; ``test``:
    ``output.passed/failed/errors/skipped/failing``; ``edit``: ``input.path`` and ``input.diff``;
    ``message``: ``output.text``; ``llm``: ``output.usage``; ...). The typed helpers of the
    recorder write exactly those keys.
    """

    type: Literal["step"] = "step"
    """Record discriminator; always ``step``."""
    index: int = Field(ge=0)
    """Position of the step in the run, from 0. Assigned when the step starts."""
    kind: StepKind
    """What sort of step this is; the vocabulary detectors rely on."""
    name: str
    """The action's name (tool name, command name, ``run_tests``, ...)."""
    input: Any = None
    """What the step was given (arguments, the command, the prompt)."""
    output: Any = None
    """What the step produced (result, command output, test counts, the message text)."""
    error: str | None = None
    """Exception or error text when the step itself failed (``TypeError: ...``)."""
    parent: int | None = None
    """Index of the enclosing span step, for nested spans."""
    started_at: float | None = None
    """Start time, seconds since the Unix epoch."""
    ended_at: float | None = None
    """End time, seconds since the Unix epoch."""
    meta: dict[str, Any] = Field(default_factory=dict)
    """Free metadata. ``meta.truncated`` maps a field path to its original length and sha256."""

    @property
    def duration(self) -> float | None:
        """Wall time of the step in seconds, when both timestamps are known."""
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


class TraceEnd(_OpenModel):
    """Last line of a trace file: how the run ended. A trace without one was aborted."""

    type: Literal["end"] = "end"
    """Record discriminator; always ``end``."""
    status: EndStatus = "completed"
    """``completed`` (the run finished), ``failed`` (it finished and the task check failed),
    ``error`` (the harness or agent raised), ``skipped``, ``timeout``, ``aborted``."""
    ended_at: float | None = None
    """End of the run, seconds since the Unix epoch."""
    step_count: int | None = None
    """Number of steps the writer recorded; lets a reader notice lost lines."""
    outcome: dict[str, Any] = Field(default_factory=dict)
    """Result of the task check (``passed``, hidden test counts, the pytest outcome, reward)."""


class Trace(_Model):
    """One agent run on one task, with every step.

    This is also the single-document JSON form of a trace (``{"header": ..., "steps": [...],
    "end": ...}``); the JSON Lines form holds the same records one per line.
    """

    header: TraceHeader
    """Identity of the run."""
    steps: list[Step] = Field(default_factory=list)
    """The steps in index order."""
    end: TraceEnd | None = None
    """How the run ended; ``None`` for an aborted run (the writer never finished)."""
    warnings: list[str] = Field(default_factory=list, exclude=True)
    """Problems noticed while loading (one line each); not written back."""

    @property
    def trace_id(self) -> str:
        return self.header.trace_id

    @property
    def aborted(self) -> bool:
        """True when the trace has no end record."""
        return self.end is None


class Finding(_Model):
    """Something a detector noticed in a trace."""

    detector: str
    """Name of the detector that produced the finding (``retry_loop``, ...)."""
    category: str = "other"
    """Failure category the finding rolls up into (``repeated_retries``, ``invalid_fixes``, ...)."""
    severity: Severity = "medium"
    """How much the finding should weigh: ``info`` < ``low`` < ``medium`` < ``high`` <
    ``critical``."""
    message: str
    """What happened and what to do about it, for a person."""
    steps: list[int] = Field(default_factory=list)
    """Indices (``Step.index``, from 0) of the steps the finding covers: first the step it is
    about, where reports point, then the others in order. Text counts steps from 1 (step
    ``index + 1``): messages, the terminal, the dashboard and ``replay`` say "step 3" for
    index 2."""
    evidence: dict[str, Any] = Field(default_factory=dict)
    """Facts backing the finding (commands, failing test ids, quoted claims)."""
    step_kind: str | None = None
    """Kind of the first step the finding covers (filled in by the pipeline)."""


class Penalty(_Model):
    """One line of a score breakdown."""

    detector: str
    """Detector whose findings cost points."""
    severity: Severity
    """Severity of those findings."""
    count: int
    """How many findings of this detector and severity."""
    points: float
    """Points taken off the score (after diminishing repeats)."""


class FeatureTerm(_Model):
    """One behaviour feature's line of a score breakdown."""

    name: str
    """Feature name (``final_edit_untested``, ``actions``, ...; see ``docs/scoring.md``)."""
    value: float
    """The feature's value in the model (0/1 for a flag, ``log(1 + count)`` for a count)."""
    shown: str
    """The value as a person reads it (``yes``, ``42``)."""
    points: float
    """Points this feature moved the score by (signed)."""


class Score(_Model):
    """An explainable score for one run."""

    value: float = Field(ge=0, le=100)
    """The score, 0 (worst) to 100 (best): the chance, in percent, that the verifier accepts
    the run, judged from the trajectory, less the points of a known failed outcome."""
    base: float = 100.0
    """Where the breakdown starts: the score model's reference run (every flag off, every
    count at the fitting corpus's median)."""
    model: str = "built-in"
    """The score model the weights came from (``built-in`` or the file's path)."""
    features: list[FeatureTerm] = Field(default_factory=list)
    """Points added or taken off by behaviour features, largest effect first."""
    reward: float = Field(ge=0, le=1)
    """The same judgement as a reward in [0, 1] for RL loops."""
    outcome_points: float = 0.0
    """Points taken off for the run's outcome (task failed, aborted run)."""
    outcome: str = "unknown"
    """The outcome those points are for: ``passed``, ``failed``, ``error``, ``aborted``,
    ``unknown``."""
    penalties: list[Penalty] = Field(default_factory=list)
    """Points taken off per detector and severity."""


class TraceResult(_Model):
    """Everything TraceBench concluded about one trace."""

    trace_id: str
    """Id of the trace."""
    task_id: str
    """Id of the task."""
    agent: str
    """Agent name."""
    path: str | None = None
    """Trace file path."""
    nodeid: str | None = None
    """pytest node id, when the trace came from a test."""
    format: str = "tracebench"
    """Format the trace was read from (``tracebench``, ``mini-swe-agent``, ``atif``, ...)."""
    session_id: str | None = None
    """The agent's own session id, when its format has one (the same run in two formats
    shares it)."""
    status: str
    """End status of the run, or ``aborted``."""
    outcome: dict[str, Any] = Field(default_factory=dict)
    """The run's outcome record."""
    step_count: int
    """Number of steps."""
    step_kinds: dict[str, int] = Field(default_factory=dict)
    """Number of steps per kind."""
    tokens: int = 0
    """Total model tokens over the ``llm`` steps, when known."""
    duration: float | None = None
    """Wall time of the run in seconds, when known."""
    findings: list[Finding] = Field(default_factory=list)
    """What the detectors found."""
    features: dict[str, float] = Field(default_factory=dict)
    """Behaviour features of the run, read from the trajectory (``docs/scoring.md``)."""
    score: Score | None = None
    """The run's score, once scored."""
    warnings: list[str] = Field(default_factory=list)
    gate: str | None = None
    """Why the per-test gates (``min_score``, ``fail_on``) failed this trace, or ``None``: the
    test failed on behaviour, whatever its own verdict (``outcome``) was."""
    """Problems noticed while loading or analysing the trace."""


class ClusterExample(_Model):
    """A representative finding of a cluster."""

    trace_id: str
    """Trace the example comes from."""
    task_id: str
    """Task of that trace."""
    steps: list[int] = Field(default_factory=list)
    """Steps of the example finding."""
    message: str
    """The example finding's message."""


class Cluster(_Model):
    """A recurring failure: findings across traces that share a normalised signature."""

    signature: str
    """Normalised signature (detector, step kind, message template with variables masked)."""
    detector: str
    """Detector of the member findings."""
    category: str
    """Category the cluster rolls up into."""
    count: int
    """Number of member findings."""
    traces: list[str] = Field(default_factory=list)
    """Ids of the traces the cluster appears in."""
    examples: list[ClusterExample] = Field(default_factory=list)
    """A few representative findings."""


class Summary(_Model):
    """Suite-level numbers."""

    traces: int = 0
    """Number of traces analysed."""
    mean_score: float | None = None
    """Mean score over scored traces."""
    score_ci95: tuple[float, float] | None = None
    """95% bootstrap confidence interval of the mean score."""
    pass_rate: float | None = None
    """Share of traces whose outcome passed, among those whose outcome is known."""
    judged: int = 0
    """Number of traces whose outcome is known: the pass rate's denominator (imported
    trajectories often carry no verdict)."""
    gate_failed: int = 0
    """Traces a per-test gate (``min_score``, ``fail_on``) failed: the pass rate is the tests'
    own verdict, before gates."""
    findings_per_detector: dict[str, int] = Field(default_factory=dict)
    """Number of findings per detector."""
    findings_per_category: dict[str, int] = Field(default_factory=dict)
    """Number of findings per category."""
    steps: int = 0
    """Total steps over all traces."""
    per_agent: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    """With several agents: per agent, ``traces``, ``mean_score``, ``pass_rate``,
    ``findings``."""
    pass_at_k: dict[str, float] = Field(default_factory=dict)
    """With repeated runs: ``{"1": pass@1, "K": pass@K}`` over tasks (unbiased estimator)."""
    score_spread: dict[str, dict[str, float]] = Field(default_factory=dict)
    """With repeated runs: per task and agent, ``runs``, ``min``, ``max``, ``stdev`` of the
    score."""
    tokens: int = 0
    """Total model tokens over all traces."""


class Gate(_Model):
    """One threshold checked at the end of a run (``score/gates.py``, ``score/compare.py``):
    what a CI log, the JSON report and the dashboard show, and what fails the run."""

    name: str
    """Which threshold: ``fail_under``, ``require_traces``, ``per-trace gates``, ``compare``
    (the baseline could not be read) or ``compare RULE``."""
    passed: bool
    """Whether it held."""
    message: str
    """One line a person can act on: the value, the limit and by how much it missed."""
    value: float | None = None
    """The value checked (mean score, pass rate in points, a finding count), when there is one."""
    threshold: float | None = None
    """The limit the value was held to, when there is one."""
    baseline: float | None = None
    """The baseline's value, for a comparison rule."""


class ComparedValue(_Model):
    """One number in the baseline and in the new report."""

    base: float | None = None
    """In the baseline."""
    new: float | None = None
    """In the new report."""


class TaskComparison(_Model):
    """One task (node id or task id, with its agent) in the baseline and in the new report."""

    task: str
    """``nodeid-or-task-id [agent]``."""
    base: float | None = None
    """The baseline's score."""
    new: float | None = None
    """The new score."""
    delta: float | None = None
    """``new - base``, rounded to 2 places; ``None`` when one is missing."""
    appeared: list[str] = Field(default_factory=list)
    """Detectors with more findings now (one entry per extra finding)."""
    disappeared: list[str] = Field(default_factory=list)
    """Detectors with fewer findings now (one entry per finding gone)."""
    only_in: Literal["base", "new"] | None = None
    """The report the task is missing from the other of."""


class DetectorComparison(_Model):
    """One detector's finding count in the baseline and in the new report."""

    detector: str
    """Detector name."""
    base: int = 0
    """Findings in the baseline."""
    new: int = 0
    """Findings now."""
    delta: int = 0
    """``new - base``."""


class Comparison(_Model):
    """Differences between a baseline report and a new one (``tracebench compare``,
    ``--tracebench-compare``)."""

    mean_score: ComparedValue
    """The mean score in both."""
    pass_rate: ComparedValue
    """The pass rate in both."""
    tasks: list[TaskComparison] = Field(default_factory=list)
    """Per task, sorted by task."""
    detectors: list[DetectorComparison] = Field(default_factory=list)
    """Per detector, sorted by name."""


class EvaluationReport(_Model):
    """The versioned result of a run of the pipeline over many traces."""

    schema_version: int = REPORT_SCHEMA_VERSION
    """Report format version. Readers refuse newer versions."""
    created_at: float
    """When the report was made, seconds since the Unix epoch."""
    environment: dict[str, Any] = Field(default_factory=dict)
    """Python, platform, tracebench version, git commit."""
    config: dict[str, Any] = Field(default_factory=dict)
    """Settings in force."""
    results: list[TraceResult] = Field(default_factory=list)
    """One result per trace."""
    clusters: list[Cluster] = Field(default_factory=list)
    """Recurring failures across traces."""
    summary: Summary = Field(default_factory=Summary)
    """Suite-level numbers."""
    gates: list[Gate] = Field(default_factory=list)
    """Thresholds checked and whether they passed."""
    comparison: Comparison | None = None
    """Differences against the baseline run it was compared with (per task, per detector)."""
    calibration: dict[str, Any] | None = None
    """What ``tracebench calibrate`` measured on these runs (its JSON report), when it made
    this report: the dashboard shows it as its calibration view."""
