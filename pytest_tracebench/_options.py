"""The options, defined once: what ``pytest --help`` and ``tracebench --help`` list.

Kept apart from :mod:`.config` (and free of pydantic) because pytest imports the plugin, and
so this, in every session of every project where the package is installed: adding options
must cost nothing when ``--tracebench`` is off (issue 17).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

OptionType = Literal["bool", "int", "float", "str", "path", "list", "thresholds", "mapping",
                     "optional"]


@dataclass(frozen=True)
class Option:
    """One setting as it appears on the command line and in config files."""

    key: str
    type: OptionType
    help: str
    metavar: str | None = None
    pytest_only: bool = False
    """Only for pytest: what recording and running tests honour (the ``tracebench`` command
    does not offer it, as it would be accepted and ignored there)."""
    cli_only: bool = False
    """Only for the ``tracebench`` command (what it reads of imported trajectories)."""

    @property
    def ini_name(self) -> str:
        return f"tracebench_{self.key}"

    def flag(self, prefix: str) -> str:
        return prefix + self.key.replace("_", "-")


OPTIONS: tuple[Option, ...] = (
    Option("enabled", "bool", "record a trace for every test using `trace` and analyse it",
           pytest_only=True),
    Option("dir", "path", "directory for trace files (default: .tracebench)", "DIR"),
    Option("max_output_chars", "int", "truncate longer strings in traces (default: 100000)", "N",
           pytest_only=True),
    Option("redact", "bool", "redact secrets before writing (default: on; 'false' turns off)"),
    Option("redact_patterns", "list", "extra comma-separated regexes to redact", "REGEX,..."),
    Option("redact_rules", "list", "comma-separated rule files in gitleaks' TOML schema to "
           "apply too", "FILE,..."),
    Option("plugins", "list", "comma-separated modules to load as tracebench plugins", "MOD,..."),
    Option("otel", "bool", "record OpenTelemetry spans the agent emits (default: on)",
           pytest_only=True),
    Option("repeat", "int", "run every test using `trace` K times (pass@k, score spread)",
           "K", pytest_only=True),
    Option("agent", "list", "agents for the `agent` fixture: NAME or module:factory "
           "(repeatable)", "AGENT", pytest_only=True),
    Option("detectors", "list", "run only these comma-separated detectors", "NAME,..."),
    Option("disable", "list", "comma-separated detectors not to run", "NAME,..."),
    Option("thresholds", "thresholds",
           "detector thresholds, comma-separated DETECTOR.NAME=VALUE", "D.NAME=VALUE,..."),
    Option("weights", "mapping", "points per finding by severity, e.g. low=3,medium=8",
           "SEV=POINTS,..."),
    Option("repeat_decay", "float", "cost factor of each repeated finding of one detector "
           "(default 0.5)", "F"),
    Option("outcome_points", "mapping", "points for the run's outcome, e.g. failed=25",
           "OUTCOME=POINTS,..."),
    Option("calibration", "path", "score model written by `tracebench calibrate "
           "--write-model` (default: the built-in one)", "PATH"),
    Option("min_score", "float", "fail a trace that scores under N (under pytest: its test)",
           "N"),
    Option("fail_on", "list", "fail a trace with a finding of these detectors (under pytest: "
           "its test)", "NAME,..."),
    Option("fail_under", "float", "fail when the mean score is under N", "N"),
    Option("json", "path", "write the JSON evaluation report to PATH", "PATH"),
    Option("html", "path", "write the HTML dashboard to PATH", "PATH"),
    Option("self_contained_html", "bool", "write the dashboard as one file, with no "
           "<name>_files/ beside it"),
    Option("verdicts", "bool", "take the verifier's verdict beside each trajectory (SWE-bench "
           "report.json, Harbor result.json) as its outcome (default: on)", cli_only=True),
    Option("save", "str", "keep this run under <dir>/runs/ with NAME", "NAME"),
    Option("autosave", "bool", "keep every run under <dir>/runs/"),
    Option("compare", "optional", "compare with a saved run (number, name, path; default: "
           "latest)", "RUN"),
    Option("compare_fail", "list", "fail on a regression against the compared run: "
           "score_drop:N[%], pass_rate_drop:N[%], findings_rise:DETECTOR:N[%]", "EXPR,..."),
    Option("require_traces", "bool", "fail a --tracebench session that recorded no trace",
           pytest_only=True),
    Option("replay", "str", "answer calls made through `trace` from each test's recorded "
           "trace: none, once, new_episodes, all", "MODE", pytest_only=True),
    Option("replay_match", "list", "what makes two calls the same: name,args,position",
           "KEY,...", pytest_only=True),
)


#: Boolean settings given as a bare flag (``--tracebench-autosave``), not ``=true``.
_FLAGS = ("autosave", "require_traces", "self_contained_html")


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
        flag = "--tracebench" if opt.key == "enabled" else opt.flag(prefix)
        dest = f"tracebench_{opt.key}"
        # argparse %-formats help texts ("%(default)s"): a literal % must be doubled, or
        # --help itself fails (found by fuzzing the command line).
        help_text = opt.help.replace("%", "%%")
        if opt.type == "bool" and opt.key == "enabled":
            addoption(flag, action="store_true", default=None, dest=dest, help=help_text)
        elif opt.type == "bool" and opt.key in _FLAGS:
            addoption(flag, action="store_const", const="true", default=None, dest=dest,
                      help=help_text)
        elif opt.type == "optional":
            addoption(flag, action="store", nargs="?", const="latest", default=None,
                      dest=dest, metavar=opt.metavar, help=help_text)
        elif opt.type == "list" and opt.key in ("compare_fail", "agent"):
            addoption(flag, action="append", default=None, dest=dest, metavar=opt.metavar,
                      help=help_text)
        elif opt.type == "bool":
            addoption(flag, action="store", default=None, dest=dest, metavar="BOOL",
                      help=help_text)
        else:
            addoption(flag, action="store", default=None, dest=dest, metavar=opt.metavar,
                      help=help_text)
