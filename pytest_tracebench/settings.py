"""One settings definition, read from three places: pyproject.toml < ini < command line.

Every setting is a field of :class:`Settings`: its type, default, range and description, and
an :class:`~pytest_tracebench._options.Opt` with its ``--help`` text, how the option takes
its value, which front end offers it and whether the ``tracebench`` marker overrides it.
Everything else is derived from the model: the pytest options (``--tracebench-dir``), the ini
keys (``tracebench_dir``), the ``[tool.tracebench]`` keys (``dir``), the ``tracebench``
command's options (``--dir``), the marker's fields and the table in docs/configuration.md
(:func:`derive_options`, :func:`docs_table`, written by ``scripts/gen_settings.py``).

Every value, whichever source gives it, goes through one coercion per type (:func:`to_bool`,
:func:`to_int`, :func:`to_float`, :func:`to_list`, :func:`to_mapping`, :func:`to_thresholds`)
and the model's range checks; a wrong value is one :class:`ConfigError` naming its source.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from pytest_tracebench._options import MARKER_FIELDS as MARKER_FIELDS
from pytest_tracebench._options import OPTIONS as OPTIONS
from pytest_tracebench._options import Opt, OptionType
from pytest_tracebench._options import Option as Option
from pytest_tracebench._options import add_options as add_options

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["DEFAULT_OUTCOME", "DEFAULT_WEIGHTS", "GATE_KEYS", "MARKER_FIELDS", "OPTIONS",
           "ConfigError", "Option", "Settings", "add_options", "build_settings",
           "derive_marker_fields", "derive_options", "docs_table", "find_pyproject",
           "gates_set", "options_source", "override", "read_pyproject", "recording_for_gates",
           "to_bool", "to_float", "to_int", "to_list", "to_mapping", "to_thresholds"]


DEFAULT_WEIGHTS: dict[str, float] = {"info": 0.0, "low": 3.0, "medium": 8.0, "high": 15.0,
                                     "critical": 30.0}
DEFAULT_OUTCOME: dict[str, float] = {"failed": 25.0, "error": 30.0, "aborted": 30.0}


class ConfigError(Exception):
    """A setting has a wrong value; the message names its source and field."""


# -- one coercion per type: what a string from an ini file, a command line or a marker means

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def to_bool(value: object) -> bool:
    """``true/false/yes/no/on/off/1/0`` (any case) or a bool; anything else is refused.

    A word that is none of these (``ture``, ``maybe``) is a mistake, not ``False``: taken as
    false it turned redaction or a detector's check off without a word."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError(f"expected true/false (yes/no, on/off, 1/0), got {value!r}")


def to_int(value: object) -> int:
    """An integer, from a number or its text (a float only when it is whole)."""
    if isinstance(value, bool):
        raise ValueError(f"Input should be a valid integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueError(f"Input should be a valid integer, got {value!r}")


def to_float(value: object) -> float:
    """A finite number, from a number or its text."""
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"Input should be a valid number, got {value!r}")
    return number


def to_list(value: object, *, sep: str = ",", split_items: bool = False) -> list[Any]:
    """A list: text is split at ``sep`` and newlines, a TOML array is kept as it is (a regex
    in it may hold a comma); ``split_items`` splits each item too (a repeatable option given
    ``--x=a,b --x=c``)."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace("\n", sep).split(sep) if part.strip()]
    if isinstance(value, (list, tuple)):
        if split_items and all(isinstance(item, str) for item in value):
            return [part for item in value for part in to_list(item, sep=sep)]
        return list(value)
    raise ValueError(f"expected a list, got {value!r}")


def to_mapping(value: object) -> dict[str, float]:
    """``NAME=NUMBER,...`` (or a table) as a mapping of names to numbers."""
    if isinstance(value, Mapping):
        return {str(key): to_float(number) for key, number in value.items()}
    if not isinstance(value, str):
        raise ValueError(f"expected NAME=NUMBER,..., got {value!r}")
    out: dict[str, float] = {}
    for item in to_list(value):
        key, sep, number = item.partition("=")
        if not sep:
            raise ValueError(f"expected NAME=NUMBER, got {item!r}")
        try:
            out[key.strip()] = to_float(number)
        except ValueError:
            raise ValueError(f"expected a number for {key.strip()!r}, got {number!r}") from None
    return out


def to_thresholds(value: object) -> dict[str, dict[str, Any]]:
    """``DETECTOR.NAME=VALUE,...`` (or a table of tables) as ``{detector: {name: value}}``;
    the values stay as given, each detector coerces its own (see ``detectors._base``)."""
    if isinstance(value, Mapping):
        return {str(detector): _table(detector, values) for detector, values in value.items()}
    out: dict[str, dict[str, Any]] = {}
    for item in to_list(value, split_items=True):
        if not isinstance(item, str):
            raise ValueError(f"expected DETECTOR.NAME=VALUE, got {item!r}")
        name, sep, setting = item.partition("=")
        detector, dot, key = name.strip().partition(".")
        if not sep or not dot or not detector or not key:
            raise ValueError(f"expected DETECTOR.NAME=VALUE, got {item!r}")
        out.setdefault(detector, {})[key.strip()] = setting.strip()
    return out


def _table(detector: object, values: object) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise ValueError(f"thresholds of {detector!r}: expected a table of NAME = VALUE, "
                         f"got {values!r}")
    return {str(key): value for key, value in values.items()}


def _maybe(coerce: Callable[[object], Any]) -> BeforeValidator:
    """``coerce`` for a setting that may be unset (``None`` passes)."""
    return BeforeValidator(lambda value: None if value is None else coerce(value))


Bool = Annotated[bool, BeforeValidator(to_bool)]
Int = Annotated[int, BeforeValidator(to_int)]
OptionalFloat = Annotated[float | None, _maybe(to_float)]
Float = Annotated[float, BeforeValidator(to_float)]
Strings = Annotated[list[str], BeforeValidator(to_list)]
Items = Annotated[list[str], BeforeValidator(functools.partial(to_list, split_items=True))]
Paths = Annotated[list[Path], BeforeValidator(to_list)]
Mapping_ = Annotated[dict[str, float], BeforeValidator(to_mapping)]
Thresholds = Annotated[dict[str, dict[str, Any]], BeforeValidator(to_thresholds)]

ReplayMode = Literal["none", "once", "new_episodes", "all"]


class Settings(BaseModel):
    """Everything TraceBench can be told: the one definition of every setting.

    Field names are the ``[tool.tracebench]`` keys (``json_path`` is ``json``); each field's
    docstring is its row in docs/configuration.md, its :class:`Opt` its command-line option.
    """

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid",
                              populate_by_name=True)

    enabled: Annotated[Bool, Opt(
        "record a trace for every test using `trace` and analyse it", scope="pytest",
        action="switch")] = False
    """Record a trace for every test using ``trace`` and analyse it (pytest
    ``--tracebench``)."""
    dir: Annotated[Path, Opt("directory for trace files", "DIR")] = Path(".tracebench")
    """Directory for trace files (``<dir>/traces/<node id>.jsonl``)."""
    max_output_chars: Annotated[Int, Opt("truncate longer strings in traces", "N",
                                         scope="pytest")] = Field(default=100_000, ge=64)
    """Longer strings are truncated (head and tail kept, full length and sha256 recorded)."""
    redact: Annotated[Bool, Opt("redact secrets before writing")] = True
    """Redact secrets before anything is written."""
    redact_patterns: Annotated[Strings, Opt("extra comma-separated regexes to redact",
                                            "REGEX,...")] = Field(default_factory=list)
    """Extra regular expressions to redact, on top of the built-in and plugin patterns."""
    redact_rules: Annotated[Paths, Opt("comma-separated rule files in gitleaks' TOML schema "
                                       "to apply too", "FILE,...")] = Field(
        default_factory=list)
    """Rule files in gitleaks' TOML schema (e.g. a gitleaks ``config/gitleaks.toml``)
    applied after the built-in rules."""
    plugins: Annotated[Strings, Opt("comma-separated modules to load as tracebench plugins",
                                    "MOD,...")] = Field(default_factory=list)
    """Modules to load as TraceBench plugins (detectors, importers, patterns)."""
    otel: Annotated[Bool, Opt("record OpenTelemetry spans the agent emits",
                              scope="pytest")] = True
    """Record OpenTelemetry spans (GenAI, OpenInference) the agent emits into the test's
    trace; needs the ``otel`` extra (``opentelemetry-sdk``)."""
    repeat: Annotated[Int, Opt("run every test using `trace` K times (pass@k, score spread)",
                               "K", scope="pytest")] = Field(default=1, ge=1)
    """Run every test that uses ``trace`` K times; the summary gives pass@1 and pass@K and
    each task's score spread."""
    agent: Annotated[Items, Opt("agents for the `agent` fixture: NAME or module:factory "
                                "(repeatable)", "AGENT", scope="pytest", action="append")
                     ] = Field(default_factory=lambda: ["repair"])
    """Agents for the ``agent`` fixture: built-in name or ``module:factory``; with several,
    each test that takes ``agent`` runs once per agent and the reports compare them."""
    detectors: Annotated[Strings, Opt("run only these comma-separated detectors", "NAME,...",
                                      shown_default="all")] = Field(default_factory=list)
    """Run only these detectors."""
    disable: Annotated[Strings, Opt("comma-separated detectors not to run", "NAME,...")
                       ] = Field(default_factory=list)
    """Detectors not to run."""
    thresholds: Annotated[Thresholds, Opt(
        "detector thresholds, comma-separated DETECTOR.NAME=VALUE", "D.NAME=VALUE,...")
    ] = Field(default_factory=dict)
    """Per-detector thresholds (see [detectors.md](detectors.md)); pyproject:
    ``[tool.tracebench.thresholds.retry_loop]``, command line:
    ``--tracebench-thresholds=retry_loop.same_observation=5``."""
    weights: Annotated[Mapping_, Opt("points per finding by severity", "SEV=POINTS,...")
                       ] = Field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    """Points a finding costs by severity, for detectors the score model does not weigh (a
    plugin's)."""
    repeat_decay: Annotated[Float, Opt("cost factor of each repeated finding of one "
                                       "detector", "F")] = Field(default=0.5, ge=0, le=1)
    """Each further finding of such a detector costs this fraction of the previous."""
    outcome_points: Annotated[Mapping_, Opt("points for the run's outcome",
                                            "OUTCOME=POINTS,...")] = Field(
        default_factory=lambda: dict(DEFAULT_OUTCOME))
    """Points for the run's known outcome."""
    calibration: Annotated[Path | None, Opt("score model written by `tracebench calibrate "
                                            "--write-model`", "PATH",
                                            shown_default="the built-in model")] = None
    """Score model written by ``tracebench calibrate --write-model`` (see
    [scoring](scoring.md))."""
    min_score: Annotated[OptionalFloat, Opt("fail a trace that scores under N (under "
                                            "pytest: its test)", "N", marker=True)] = Field(
        default=None, ge=0, le=100)
    """A test whose trace scores under this (0 to 100) fails."""
    fail_on: Annotated[Strings, Opt("fail a trace with a finding of these detectors (under "
                                    "pytest: its test)", "NAME,...", marker=True)] = Field(
        default_factory=list)
    """A test with a finding of these detectors fails."""
    fail_under: Annotated[OptionalFloat, Opt("fail when the mean score is under N", "N")
                          ] = Field(default=None, ge=0, le=100)
    """The session fails when the mean score is under this (0 to 100)."""
    json_path: Annotated[Path | None, Opt("write the JSON evaluation report to PATH", "PATH")
                         ] = Field(default=None, alias="json")
    """Write the JSON evaluation report here (``-`` for stdout in ``tracebench analyze``)."""
    html: Annotated[Path | None, Opt("write the HTML dashboard to PATH", "PATH")] = None
    """Write the HTML dashboard here (assets beside it in ``<name>_files/``); see
    [dashboard.md](dashboard.md)."""
    self_contained_html: Annotated[Bool, Opt("write the dashboard as one file, with no "
                                             "<name>_files/ beside it", action="flag")] = False
    """Write the dashboard as one file with everything inside it
    (``--tracebench-self-contained-html``, ``tracebench analyze --self-contained-html``)."""
    verdicts: Annotated[Bool, Opt("take the verifier's verdict beside each trajectory "
                                  "(SWE-bench report.json, Harbor result.json) as its outcome",
                                  scope="cli")] = True
    """``tracebench analyze`` only: take the verifier's verdict found beside an imported
    trajectory (SWE-bench ``report.json`` in the instance's folder, Harbor ``result.json`` of
    the trial) as the run's outcome: the pass rate and the outcome points of the score
    (``--verdicts=false`` turns it off); see [scoring.md](scoring.md)."""
    save: Annotated[str | None, Opt("keep this run under <dir>/runs/ with NAME", "NAME")
                    ] = None
    """Keep this run as ``<dir>/runs/NNNN_NAME.json``."""
    autosave: Annotated[Bool, Opt("keep every run under <dir>/runs/", action="flag")] = False
    """Keep every run under ``<dir>/runs/``."""
    compare: Annotated[str | None, Opt("compare with a saved run (number, name, path; alone: "
                                       "latest)", "RUN", action="optional")] = None
    """Compare with a saved run: number, name, path, or ``latest``
    (``--tracebench-compare`` alone)."""
    compare_fail: Annotated[Items, Opt("fail on a regression against the compared run: "
                                       "score_drop:N[%], pass_rate_drop:N[%], "
                                       "findings_rise:DETECTOR:N[%]", "EXPR,...",
                                       action="append")] = Field(default_factory=list)
    """Fail on a regression against the compared run: ``score_drop:N[%]``,
    ``pass_rate_drop:N[%]``, ``findings_rise:DETECTOR:N[%]`` (``*`` for all detectors);
    repeatable."""
    require_traces: Annotated[Bool, Opt("fail a --tracebench session that recorded no trace",
                                        scope="pytest", action="flag")] = False
    """Fail a ``--tracebench`` session that recorded no trace."""
    replay: Annotated[ReplayMode | None, Opt(
        "answer calls made through `trace` from each test's recorded trace: none, once, "
        "new_episodes, all", "MODE", scope="pytest", marker=True)] = None
    """Cassette replay of the calls made through ``trace`` (``@trace.tool``, ``trace.run``)
    from each test's recorded trace: ``none`` (replay only), ``once``, ``new_episodes``,
    ``all``."""
    replay_match: Annotated[Strings, Opt("what makes two calls the same: name,args,position",
                                         "KEY,...", scope="pytest")] = Field(
        default_factory=lambda: ["name", "args", "position"])
    """What makes two calls the same."""


# -- what is derived from the model: the option table, the marker's fields, the docs table


def _opt(info: FieldInfo) -> Opt:
    return next(item for item in info.metadata if isinstance(item, Opt))


def _key(name: str, info: FieldInfo) -> str:
    return info.alias or name


def _kind(info: FieldInfo) -> OptionType:
    """The setting's type as --help and the docs name it, read from the field's type."""
    base = info.annotation
    if get_origin(base) in (Union, UnionType):  # X | None: the type of X
        base = next(a for a in get_args(base) if a is not type(None))
    origin = get_origin(base)
    if origin is list:
        return "list"
    if origin is dict:
        return "mapping" if get_args(base)[1] is float else "thresholds"
    kinds: dict[Any, OptionType] = {bool: "bool", int: "int", float: "float", Path: "path"}
    return kinds.get(base, "str")


def _shown(value: Any, *, sep: str) -> str:
    """A default as a person writes it: ``true``, ``0.5``, ``a, b``, ``low=3, medium=8``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return sep.join(_shown(v, sep=sep) for v in value)
    if isinstance(value, dict):
        return sep.join(f"{k}={_shown(v, sep=sep)}" for k, v in value.items())
    return str(value)


def _default(info: FieldInfo) -> Any:
    return info.get_default(call_default_factory=True)


def _help(info: FieldInfo) -> str:
    """The option's --help text with its default, taken from the field (never written twice)."""
    opt, default = _opt(info), _default(info)
    if opt.shown_default is not None:
        return f"{opt.help} (default: {opt.shown_default})"
    if default in (None, False, [], {}) or opt.action == "switch":
        return opt.help
    return f"{opt.help} (default: {_shown(default, sep=',')})"


def derive_options() -> tuple[Option, ...]:
    """The option table the model gives (committed in ``_options.py`` as :data:`OPTIONS`)."""
    return tuple(Option(_key(name, info), _kind(info), _help(info), _opt(info).metavar,
                        _opt(info).scope, _opt(info).action)
                 for name, info in Settings.model_fields.items())


def derive_marker_fields() -> tuple[str, ...]:
    """The settings a ``@pytest.mark.tracebench(...)`` marker may override for its test."""
    return tuple(_key(name, info) for name, info in Settings.model_fields.items()
                 if _opt(info).marker)


def options_source() -> str:
    """The generated part of ``_options.py``: :data:`OPTIONS` and :data:`MARKER_FIELDS`."""
    lines = ["OPTIONS: tuple[Option, ...] = ("]
    for opt in derive_options():
        args = [_q(opt.key), _q(opt.type)]
        args += [f"{name}={_q(value)}" for name, value in (
            ("metavar", opt.metavar), ("scope", opt.scope), ("action", opt.action))
            if value is not None and value != Option.__dataclass_fields__[name].default]
        lines.append(f"    Option({', '.join(args)},")
        chunks = _chunks(opt.help, 80)
        lines.append(f"           help={_q(chunks[0])}")
        lines.extend(f"                {_q(chunk)}" for chunk in chunks[1:])
        lines[-1] += "),"
    lines.append(")")
    fields = ", ".join(_q(key) for key in derive_marker_fields())
    lines.append(f"MARKER_FIELDS: tuple[str, ...] = ({fields},)")
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    """``text`` as a Python string literal in double quotes."""
    return json.dumps(text, ensure_ascii=False)


def _chunks(text: str, width: int) -> list[str]:
    """``text`` cut at spaces into pieces of at most about ``width`` characters, which
    concatenated give ``text`` back (adjacent string literals)."""
    pieces = re.findall(r"\S+\s*", text) or [""]
    chunks = [""]
    for piece in pieces:
        if chunks[-1] and len(chunks[-1]) + len(piece) > width:
            chunks.append("")
        chunks[-1] += piece
    return chunks


def _where(opt: Opt) -> str:
    return {"both": "pytest, cli", "pytest": "pytest", "cli": "cli"}[opt.scope]


def _doc_default(info: FieldInfo) -> str:
    opt, default = _opt(info), _default(info)
    if default is None:
        return f"none ({opt.shown_default})" if opt.shown_default else "none"
    if default in ([], {}):
        shown = "[]" if default == [] else "{}"
        return f"{shown} ({opt.shown_default})" if opt.shown_default else shown
    if isinstance(default, Path):
        return f"`{default}`"
    return _shown(default, sep=", ")


def docs_table() -> str:
    """The settings table of docs/configuration.md (committed between its
    ``settings:begin`` and ``settings:end`` comments)."""
    kinds = {"mapping": "table", "thresholds": "table"}
    rows = ["| key | type | default | where | meaning |", "|---|---|---|---|---|"]
    for name, info in Settings.model_fields.items():
        opt = _opt(info)
        meaning = " ".join((info.description or "").split()).replace("``", "`")
        if opt.marker:
            meaning = meaning.rstrip(".") + f" (marker: `{_key(name, info)}=`)."
        kind = _kind(info)
        rows.append(f"| `{_key(name, info)}` | {kinds.get(kind, kind)} | {_doc_default(info)} "
                    f"| {_where(opt)} | {meaning} |")
    return "\n".join(rows) + "\n"


# -- reading and merging the sources


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


_KEYS = frozenset(_key(name, info) for name, info in Settings.model_fields.items())


def build_settings(
    pyproject: Mapping[str, Any] | None = None,
    ini: Mapping[str, Any] | None = None,
    cli: Mapping[str, Any] | None = None,
    *,
    pyproject_name: str = "pyproject.toml [tool.tracebench]",
) -> Settings:
    """Merge the three sources (later wins) into validated :class:`Settings`.

    ``ini`` and ``cli`` are keyed by setting name; ``None`` values mean "not given". Every
    value is coerced by the model's one coercion of its type, whatever its source.
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for source, layer in (("", pyproject), ("ini file", ini), ("command line", cli)):
        source = source or pyproject_name
        for key, value in (layer or {}).items():
            if value is None:
                continue
            if key not in _KEYS:
                raise ConfigError(f"{source}: unknown setting {key!r}; known: {sorted(_KEYS)}")
            if key == "thresholds":
                value = _merge_thresholds(merged.get(key), value, source)
            merged[key] = value
            origin[key] = source
    if merged.get("compare_fail") and merged.get("compare") is None:
        # A regression gate needs a baseline: without --compare it compared with nothing and
        # held silently. The latest saved run is what --compare alone means.
        merged["compare"] = "latest"
        origin["compare"] = origin.get("compare_fail", "settings")
    return _validate(merged, lambda key: origin.get(key, "settings"))


def _merge_thresholds(lower: dict[str, dict[str, Any]] | None, value: Any,
                      source: str) -> dict[str, dict[str, Any]]:
    """Later sources tune single thresholds; they do not drop the others."""
    try:
        coerced = to_thresholds(value)
    except ValueError as exc:
        raise ConfigError(f"{source}: setting 'thresholds': {exc}") from None
    combined = {detector: dict(values) for detector, values in (lower or {}).items()}
    for detector, values in coerced.items():
        combined.setdefault(detector, {}).update(values)
    return combined


def _validate(values: Mapping[str, Any], source_of: Callable[[str], str]) -> Settings:
    """:class:`Settings` from ``values``; the first wrong one is a one-line ConfigError."""
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        if key == "json_path":
            key = "json"
        # A coercion's own message ("expected true/false, got 'maybe'") without pydantic's
        # "Value error, " in front of it.
        cause = (err.get("ctx") or {}).get("error")
        message = str(cause) if err["type"] == "value_error" and cause else err["msg"]
        raise ConfigError(f"{source_of(key)}: setting {key!r}: {message}") from None


def override(settings: Settings, values: Mapping[str, Any], source: str) -> Settings:
    """``settings`` with ``values`` (``None`` included: "no gate here") coerced and checked
    like any other source's: a marker's ``min_score="abc"`` is the same error as
    ``--tracebench-min-score=abc``."""
    if not values:
        return settings
    fields = {_key(name, info): info for name, info in Settings.model_fields.items()}
    given: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"{source}: unknown setting {key!r}; known: {sorted(fields)}")
        # None is "not set": a list setting's default (no detector), a number's None.
        given[key] = _default(fields[key]) if value is None else value
    return _validate({**settings.model_dump(by_alias=True), **given}, lambda _key: source)
