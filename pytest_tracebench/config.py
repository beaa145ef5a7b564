"""One settings model, read from three places: pyproject.toml < ini < command line.

The options are defined once, in :data:`OPTIONS`, and turned into pytest options
(``--tracebench-dir``), ini keys (``tracebench_dir``), ``[tool.tracebench]`` keys (``dir``) and
``tracebench`` command options (``--dir``) by :func:`add_options` — one definition, two front
ends, as pytest-benchmark does it. A wrong value names where it came from.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class ConfigError(Exception):
    """A setting has a wrong value; the message names its source and field."""


class Settings(BaseModel):
    """Everything TraceBench can be told. Field names are the ``[tool.tracebench]`` keys."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="forbid")

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
    plugins: list[str] = Field(default_factory=list)
    """Modules to load as TraceBench plugins (detectors, importers, patterns)."""
    detectors: list[str] = Field(default_factory=list)
    """Run only these detectors (default: all)."""
    disable: list[str] = Field(default_factory=list)
    """Detectors not to run."""
    thresholds: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-detector thresholds, ``{detector: {name: value}}`` (``[tool.tracebench.thresholds.
    retry_loop]`` in pyproject.toml; ``retry_loop.same_observation=5`` on the command line)."""
    otel: bool = True
    """Record OpenTelemetry spans the agent emits (GenAI / OpenInference) into the test's
    trace, when opentelemetry-sdk is installed."""


OptionType = Literal["bool", "int", "str", "path", "list", "thresholds"]


@dataclass(frozen=True)
class Option:
    """One setting as it appears on the command line and in config files."""

    key: str
    type: OptionType
    help: str
    metavar: str | None = None
    pytest_only: bool = False

    @property
    def ini_name(self) -> str:
        return f"tracebench_{self.key}"

    def flag(self, prefix: str) -> str:
        return prefix + self.key.replace("_", "-")


OPTIONS: tuple[Option, ...] = (
    Option("enabled", "bool", "record a trace for every test using `trace` and analyse it",
           pytest_only=True),
    Option("dir", "path", "directory for trace files (default: .tracebench)", "DIR"),
    Option("max_output_chars", "int", "truncate longer strings in traces (default: 100000)", "N"),
    Option("redact", "bool", "redact secrets before writing (default: on; 'false' turns off)"),
    Option("redact_patterns", "list", "extra comma-separated regexes to redact", "REGEX,..."),
    Option("plugins", "list", "comma-separated modules to load as tracebench plugins", "MOD,..."),
    Option("otel", "bool", "record OpenTelemetry spans the agent emits (default: on)"),
    Option("detectors", "list", "run only these comma-separated detectors", "NAME,..."),
    Option("disable", "list", "comma-separated detectors not to run", "NAME,..."),
    Option("thresholds", "thresholds",
           "detector thresholds, comma-separated DETECTOR.NAME=VALUE", "D.NAME=VALUE,..."),
)


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _parse_list(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


def add_options(addoption: Callable[..., Any], prefix: str, *, pytest: bool) -> None:
    """Add every option through ``addoption`` (argparse's or pytest's) with ``prefix``.

    Values default to ``None`` so that an option not given does not override a config file.
    """
    for opt in OPTIONS:
        if opt.pytest_only and not pytest:
            continue
        flag = "--tracebench" if opt.key == "enabled" else opt.flag(prefix)
        dest = f"tracebench_{opt.key}"
        if opt.type == "bool" and opt.key == "enabled":
            addoption(flag, action="store_true", default=None, dest=dest, help=opt.help)
        elif opt.type == "bool":
            addoption(flag, action="store", default=None, dest=dest, metavar="BOOL",
                      help=opt.help)
        else:
            addoption(flag, action="store", default=None, dest=dest, metavar=opt.metavar,
                      help=opt.help)


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
    table = data.get("tool", {}).get("tracebench", {})
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


def _coerce(opt: Option, value: Any) -> Any:
    """Turn a string from an ini file or the command line into the option's type."""
    if opt.type == "thresholds" and isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    if not isinstance(value, str):
        return value
    if opt.type == "thresholds":
        return _parse_thresholds(value)
    if opt.type == "bool":
        return _parse_bool(value)
    if opt.type == "list":
        return _parse_list(value)
    return value


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
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        source = origin.get(key, "settings")
        raise ConfigError(f"{source}: setting {key!r}: {err['msg']}") from None
