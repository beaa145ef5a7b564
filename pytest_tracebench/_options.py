"""The option table pytest and ``tracebench`` build their options from, free of pydantic.

The settings are declared once, as the fields of :class:`pytest_tracebench.settings.Settings`
(type, default, range, description, and an :class:`Opt` saying how the setting appears on a
command line). pytest imports the plugin, and so this module, in every session of every
project where the package is installed, and adding options must cost nothing when
``--tracebench`` is off (issue 17): importing pydantic to read the model would not. So
:data:`OPTIONS` is *generated* from the model (``python scripts/gen_settings.py``) and
committed here; a test fails when it differs from what the model gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["MARKER_FIELDS", "OPTIONS", "Action", "Opt", "Option", "OptionType", "Scope",
           "add_options"]

OptionType = Literal["bool", "int", "float", "str", "path", "list", "thresholds", "mapping"]
Scope = Literal["both", "pytest", "cli"]
"""Which front end offers a setting: ``pytest`` for what only recording and running tests
honour (the ``tracebench`` command would accept it and ignore it), ``cli`` for what only the
command reads of imported trajectories."""
Action = Literal["store", "switch", "flag", "append", "optional"]
"""How the option takes its value: ``store`` (``--x=V``), ``switch`` (``--tracebench``, a bare
flag), ``flag`` (a bare flag meaning ``true``), ``append`` (repeatable), ``optional`` (the
value may be left out: ``--tracebench-compare`` alone means ``latest``)."""


@dataclass(frozen=True)
class Opt:
    """How one setting of the model appears on a command line (metadata of its field)."""

    help: str
    """The short ``--help`` text; the default is appended from the field's default."""
    metavar: str | None = None
    scope: Scope = "both"
    action: Action = "store"
    marker: bool = False
    """Accepted by ``@pytest.mark.tracebench(...)`` as a per-test override."""
    shown_default: str | None = None
    """How the default reads when the value alone would not say it (``all`` for an empty
    list of detectors)."""


@dataclass(frozen=True)
class Option:
    """One setting as it appears on the command line and in config files."""

    key: str
    """The ``[tool.tracebench]`` key (``tracebench_<key>`` in an ini file)."""
    type: OptionType
    help: str
    """The ``--help`` text, default included."""
    metavar: str | None = None
    scope: Scope = "both"
    action: Action = "store"

    @property
    def pytest_only(self) -> bool:
        return self.scope == "pytest"

    @property
    def cli_only(self) -> bool:
        return self.scope == "cli"

    @property
    def ini_name(self) -> str:
        return f"tracebench_{self.key}"

    def flag(self, prefix: str) -> str:
        return "--tracebench" if self.action == "switch" else prefix + self.key.replace("_", "-")


# -- generated from pytest_tracebench.settings.Settings by scripts/gen_settings.py: do not edit
OPTIONS: tuple[Option, ...] = (
    Option("enabled", "bool", scope="pytest", action="switch",
           help="record a trace for every test using `trace` and analyse it"),
    Option("dir", "path", metavar="DIR",
           help="directory for trace files (default: .tracebench)"),
    Option("max_output_chars", "int", metavar="N", scope="pytest",
           help="truncate longer strings in traces (default: 100000)"),
    Option("redact", "bool",
           help="redact secrets before writing (default: true)"),
    Option("redact_patterns", "list", metavar="REGEX,...",
           help="extra comma-separated regexes to redact"),
    Option("redact_rules", "list", metavar="FILE,...",
           help="comma-separated rule files in gitleaks' TOML schema to apply too"),
    Option("plugins", "list", metavar="MOD,...",
           help="comma-separated modules to load as tracebench plugins"),
    Option("otel", "bool", scope="pytest",
           help="record OpenTelemetry spans the agent emits (default: true)"),
    Option("repeat", "int", metavar="K", scope="pytest",
           help="run every test using `trace` K times (pass@k, score spread) (default: 1)"),
    Option("agent", "list", metavar="AGENT", scope="pytest", action="append",
           help="agents for the `agent` fixture: NAME or module:factory (repeatable) (default: "
                "repair)"),
    Option("detectors", "list", metavar="NAME,...",
           help="run only these comma-separated detectors (default: all)"),
    Option("disable", "list", metavar="NAME,...",
           help="comma-separated detectors not to run"),
    Option("thresholds", "thresholds", metavar="D.NAME=VALUE,...",
           help="detector thresholds, comma-separated DETECTOR.NAME=VALUE"),
    Option("weights", "mapping", metavar="SEV=POINTS,...",
           help="points per finding by severity (default: "
                "info=0,low=3,medium=8,high=15,critical=30)"),
    Option("repeat_decay", "float", metavar="F",
           help="cost factor of each repeated finding of one detector (default: 0.5)"),
    Option("outcome_points", "mapping", metavar="OUTCOME=POINTS,...",
           help="points for the run's outcome (default: failed=25,error=30,aborted=30)"),
    Option("calibration", "path", metavar="PATH",
           help="score model written by `tracebench calibrate --write-model` (default: the "
                "built-in model)"),
    Option("min_score", "float", metavar="N",
           help="fail a trace that scores under N (under pytest: its test)"),
    Option("fail_on", "list", metavar="NAME,...",
           help="fail a trace with a finding of these detectors (under pytest: its test)"),
    Option("fail_under", "float", metavar="N",
           help="fail when the mean score is under N"),
    Option("json", "path", metavar="PATH",
           help="write the JSON evaluation report to PATH"),
    Option("html", "path", metavar="PATH",
           help="write the HTML dashboard to PATH"),
    Option("self_contained_html", "bool", action="flag",
           help="write the dashboard as one file, with no <name>_files/ beside it"),
    Option("verdicts", "bool", scope="cli",
           help="take the verifier's verdict beside each trajectory (SWE-bench report.json, "
                "Harbor result.json) as its outcome (default: true)"),
    Option("save", "str", metavar="NAME",
           help="keep this run under <dir>/runs/ with NAME"),
    Option("autosave", "bool", action="flag",
           help="keep every run under <dir>/runs/"),
    Option("compare", "str", metavar="RUN", action="optional",
           help="compare with a saved run (number, name, path; alone: latest)"),
    Option("compare_fail", "list", metavar="EXPR,...", action="append",
           help="fail on a regression against the compared run: score_drop:N[%], "
                "pass_rate_drop:N[%], findings_rise:DETECTOR:N[%]"),
    Option("require_traces", "bool", scope="pytest", action="flag",
           help="fail a --tracebench session that recorded no trace"),
    Option("replay", "str", metavar="MODE", scope="pytest",
           help="answer calls made through `trace` from each test's recorded trace: none, once, "
                "new_episodes, all"),
    Option("replay_match", "list", metavar="KEY,...", scope="pytest",
           help="what makes two calls the same: name,args,position (default: name,args,position)"),
)
MARKER_FIELDS: tuple[str, ...] = ("min_score", "fail_on", "replay",)
# -- end of the generated part


def add_options(addoption: Callable[..., Any], prefix: str, *, pytest: bool,
                only: tuple[str, ...] | None = None) -> None:
    """Add every option (or those named in ``only``) through ``addoption`` (argparse's or
    pytest's) with ``prefix``.

    Values default to ``None`` so that an option not given does not override a config file.
    """
    for opt in OPTIONS:
        if (opt.pytest_only and not pytest) or (opt.cli_only and pytest):
            continue
        if only is not None and opt.key not in only:
            continue
        addoption(opt.flag(prefix), default=None, dest=f"tracebench_{opt.key}",
                  # argparse %-formats help texts ("%(default)s"): a literal % must be
                  # doubled, or --help itself fails (found by fuzzing the command line).
                  help=opt.help.replace("%", "%%"), **_action(opt))


def _action(opt: Option) -> dict[str, Any]:
    """The ``addoption`` keywords of ``opt``'s action."""
    if opt.action == "switch":
        return {"action": "store_true"}
    if opt.action == "flag":
        return {"action": "store_const", "const": "true"}
    if opt.action == "optional":
        return {"action": "store", "nargs": "?", "const": "latest", "metavar": opt.metavar}
    if opt.action == "append":
        return {"action": "append", "metavar": opt.metavar}
    return {"action": "store", "metavar": "BOOL" if opt.type == "bool" else opt.metavar}
