"""One settings model, read from three places: pyproject.toml < ini < command line.

The options are defined once, in :data:`OPTIONS`, and turned into pytest options
(``--tracebench-dir``), ini keys (``tracebench_dir``), ``[tool.tracebench]`` keys (``dir``) and
``tracebench`` command options (``--dir``) by :func:`add_options` — one definition, two front
ends, as pytest-benchmark does it. A wrong value names where it came from. The options live in
:mod:`._options` (no pydantic there: the plugin adds them in every pytest session).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pytest_tracebench._options import OPTIONS as OPTIONS
from pytest_tracebench._options import Option as Option
from pytest_tracebench._options import OptionType as OptionType
from pytest_tracebench._options import add_options as add_options

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


DEFAULT_WEIGHTS: dict[str, float] = {"info": 0.0, "low": 3.0, "medium": 8.0, "high": 15.0,
                                     "critical": 30.0}
DEFAULT_OUTCOME: dict[str, float] = {"failed": 25.0, "error": 30.0, "aborted": 30.0}


class ConfigError(Exception):
    """A setting has a wrong value; the message names its source and field."""


class Settings(BaseModel):
    """Everything TraceBench can be told. Field names are the ``[tool.tracebench]`` keys."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid",
                              populate_by_name=True)

    enabled: bool = False
    """Record traces and analyse them (pytest ``--tracebench``)."""
    dir: Path = Path(".tracebench")
    """Directory for trace files, one per test."""
    max_output_chars: int = Field(default=100_000, ge=64)
    """Longer strings are truncated (head and tail kept, full length and sha256 recorded)."""
    redact: bool = True
    """Redact secrets before anything is written."""
    redact_patterns: list[str] = Field(default_factory=list)
    """Extra regular expressions to redact, on top of the built-in and plugin patterns."""
    redact_rules: list[Path] = Field(default_factory=list)
    """Rule files in gitleaks' TOML schema (a gitleaks ``config/gitleaks.toml``, for one),
    applied after the built-in rules."""
    plugins: list[str] = Field(default_factory=list)
    """Modules to load as TraceBench plugins (detectors, importers, patterns)."""
    detectors: list[str] = Field(default_factory=list)
    """Run only these detectors (default: all)."""
    disable: list[str] = Field(default_factory=list)
    """Detectors not to run."""
    thresholds: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-detector thresholds, ``{detector: {name: value}}`` (``[tool.tracebench.thresholds.
    retry_loop]`` in pyproject.toml; ``retry_loop.same_observation=5`` on the command line)."""
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    """Points a finding costs by severity (``info``, ``low``, ``medium``, ``high``,
    ``critical``)."""
    repeat_decay: float = Field(default=0.5, ge=0, le=1)
    """Each further finding of the same detector costs this fraction of the previous one."""
    outcome_points: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_OUTCOME))
    """Points taken off for the run's outcome (``failed``, ``error``, ``aborted``)."""
    calibration: Path | None = None
    """Score model (weights) written by ``tracebench calibrate --write-model``; the built-in
    model, fitted on 752 verified runs of 9 agent/benchmark sources, when unset."""
    min_score: float | None = None
    """A test whose trace scores under this fails (the marker can override per test)."""
    fail_on: list[str] = Field(default_factory=list)
    """A test whose trace has a finding of one of these detectors fails."""
    fail_under: float | None = None
    """The session fails when the mean score is under this."""
    json_path: Path | None = Field(default=None, alias="json")
    """Write the JSON evaluation report here (key ``json``)."""
    html: Path | None = None
    """Write the HTML dashboard here (assets go beside it in ``<name>_files/``)."""
    self_contained_html: bool = False
    """Write the dashboard as one file, everything inside it (to attach or send)."""
    verdicts: bool = True
    """``tracebench analyze``: take the verifier's verdict found beside an imported
    trajectory (SWE-bench ``report.json``, Harbor ``result.json``) as the run's outcome."""
    save: str | None = None
    """Keep this run as a numbered JSON report under ``<dir>/runs/`` with this name."""
    autosave: bool = False
    """Keep every run as a numbered JSON report under ``<dir>/runs/``."""
    compare: str | None = None
    """Compare with a saved run: its number, name or path, or ``latest``."""
    compare_fail: list[str] = Field(default_factory=list)
    """Fail the session on a regression against the compared run (``score_drop:5``,
    ``pass_rate_drop:10%``, ``findings_rise:retry_loop:2``)."""
    require_traces: bool = False
    """Fail a --tracebench session that recorded no trace at all."""
    replay: Literal["none", "once", "new_episodes", "all"] | None = None
    """Cassette replay of the calls made through ``trace`` (``@trace.tool``, ``trace.run``)
    from each test's recorded trace: ``none``, ``once``, ``new_episodes``, ``all``."""
    replay_match: list[str] = Field(default_factory=lambda: ["name", "args", "position"])
    """What makes two calls the same: ``name``, ``args``, ``position``."""
    agent: list[str] = Field(default_factory=lambda: ["repair"])
    """Agents the ``agent`` fixture runs (built-in names or ``module:factory``); several
    agents run every test once each."""
    repeat: int = Field(default=1, ge=1)
    """Run every test that uses ``trace`` this many times (pass@k, score spread)."""
    otel: bool = True
    """Record OpenTelemetry spans the agent emits (GenAI / OpenInference) into the test's
    trace, when opentelemetry-sdk is installed."""


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _parse_list(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_pyproject(path: Path | None) -> dict[str, Any]:
    """The ``[tool.tracebench]`` table of ``path`` ({} when absent)."""
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read [tool.tracebench]: {exc}") from exc
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: 'tool' must be a table ([tool.tracebench] is read from it)")
    table = tool.get("tracebench", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.tracebench] must be a table")
    return table


def _parse_thresholds(value: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for item in _parse_list(value):
        name, sep, setting = item.partition("=")
        detector, dot, key = name.strip().partition(".")
        if not sep or not dot or not detector or not key:
            raise ValueError(f"expected DETECTOR.NAME=VALUE, got {item!r}")
        out.setdefault(detector, {})[key.strip()] = setting.strip()
    return out


def _parse_mapping(value: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in _parse_list(value):
        key, sep, number = item.partition("=")
        if not sep:
            raise ValueError(f"expected NAME=NUMBER, got {item!r}")
        try:
            out[key.strip()] = float(number)
        except ValueError:
            raise ValueError(f"expected a number for {key.strip()!r}, got {number!r}") from None
    return out


def _coerce(opt: Option, value: Any) -> Any:
    """Turn a string from an ini file or the command line into the option's type."""
    if opt.type in ("thresholds", "list") and isinstance(value, (list, tuple)) and \
            all(isinstance(v, str) for v in value) and \
            opt.key in ("thresholds", "compare_fail", "agent"):
        value = ",".join(str(v) for v in value)
    if opt.type == "mapping" and isinstance(value, str):
        return _parse_mapping(value)
    if not isinstance(value, str):
        return value
    if opt.type == "thresholds":
        return _parse_thresholds(value)
    if opt.type == "bool":
        return _parse_bool(value)
    if opt.type == "list":
        return _parse_list(value)
    return value


#: Settings that judge recorded traces. Given to pytest without ``--tracebench`` they would
#: have nothing to judge and pass silently, so each one turns recording on (see
#: :func:`recording_for_gates`).
GATE_KEYS: tuple[str, ...] = ("min_score", "fail_on", "fail_under", "compare_fail",
                              "require_traces")


def gates_set(settings: Settings) -> list[str]:
    """The gate settings that are set (``min_score``, ``fail_on``, ...), in option order."""
    return [key for key in GATE_KEYS if getattr(settings, key) not in (None, False, [])]


def recording_for_gates(settings: Settings,
                        layers: Sequence[tuple[str, Mapping[str, Any] | None]]) -> Settings:
    """``settings`` with recording on when a gate is set: a gate is never ignored.

    ``pytest --tracebench-fail-under=90`` without ``--tracebench`` used to record nothing,
    judge nothing and exit 0, which in CI reads as a gate that held. A gate now turns
    recording on, from any source (command line, ini, ``[tool.tracebench]``). Recording
    turned off explicitly (``enabled = false``) while a gate is set is a contradiction: a
    :class:`ConfigError` naming both settings and where each came from. ``layers`` are the
    ``(source name, values)`` given to :func:`build_settings`, lowest first.
    """
    gates = gates_set(settings)
    if not gates or settings.enabled:
        return settings

    def source_of(key: str) -> str:
        found = [name for name, layer in layers
                 if layer and layer.get(key) not in (None, "", [])]
        return found[-1] if found else "settings"

    off = [name for name, layer in layers if layer and layer.get("enabled") not in (None, "")]
    if off:
        gate = gates[0]
        raise ConfigError(
            f"{source_of(gate)}: setting {gate!r} is a gate on recorded traces, but "
            f"{off[-1]} turns recording off (enabled = false); a gate with nothing recorded "
            f"would pass silently: remove one of them")
    return settings.model_copy(update={"enabled": True})


def build_settings(
    pyproject: Mapping[str, Any] | None = None,
    ini: Mapping[str, Any] | None = None,
    cli: Mapping[str, Any] | None = None,
    *,
    pyproject_name: str = "pyproject.toml [tool.tracebench]",
) -> Settings:
    """Merge the three sources (later wins) into validated :class:`Settings`.

    ``ini`` and ``cli`` are keyed by setting name; ``None`` values mean "not given".
    """
    by_key = {opt.key: opt for opt in OPTIONS}
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    layers: list[tuple[str, Mapping[str, Any] | None]] = [
        (pyproject_name, pyproject),
        ("ini file", ini),
        ("command line", cli),
    ]
    for source, layer in layers:
        for key, value in (layer or {}).items():
            if value is None:
                continue
            opt = by_key.get(key)
            if opt is None:
                raise ConfigError(f"{source}: unknown setting {key!r}; known: {sorted(by_key)}")
            try:
                coerced = _coerce(opt, value)
            except ValueError as exc:
                raise ConfigError(f"{source}: setting {key!r}: {exc}") from exc
            if opt.type == "thresholds" and isinstance(merged.get(key), dict) and \
                    isinstance(coerced, dict):
                # Later sources tune single thresholds; they do not drop the others.
                combined = {d: dict(v) for d, v in merged[key].items()}
                for detector, values in coerced.items():
                    combined.setdefault(detector, {}).update(values)
                coerced = combined
            merged[key] = coerced
            origin[key] = source
    if merged.get("compare_fail") and merged.get("compare") is None:
        # A regression gate needs a baseline: without --compare it compared with nothing and
        # held silently. The latest saved run is what --compare alone means.
        merged["compare"] = "latest"
        origin["compare"] = origin.get("compare_fail", "settings")
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        source = origin.get(key, "settings")
        raise ConfigError(f"{source}: setting {key!r}: {err['msg']}") from None
