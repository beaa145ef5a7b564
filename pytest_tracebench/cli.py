"""The ``tracebench`` command: the pipeline's stages on files, outside pytest.

Every subcommand reports bad input as one line (``file:line: field: problem``) on stderr and
exits non-zero; no traceback reaches the user. Commands that take trace files accept any
importable format (detected from the file, or forced with ``--format``) and directories, which
are walked: every file is reported, as imported, skipped (with the reason) or failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pytest_tracebench import __version__
from pytest_tracebench._atomic import write_text
from pytest_tracebench.analysis import AnalysisUnavailable, export
from pytest_tracebench.detectors import describe_thresholds
from pytest_tracebench.engines.local import analyze_paths
from pytest_tracebench.engines.ray import EngineError
from pytest_tracebench.exporters import AtifExportError, to_atif
from pytest_tracebench.finish import finish
from pytest_tracebench.importers import get_importers, import_path, iter_trace_inputs
from pytest_tracebench.manager import PluginLoadError
from pytest_tracebench.models import (
    Comparison,
    EvaluationReport,
    Step,
    Trace,
    TraceEnd,
    TraceHeader,
)
from pytest_tracebench.pipeline import Pipeline
from pytest_tracebench.record.redaction import (
    default_redactor,
    redact_trace,
    redactor_from_settings,
)
from pytest_tracebench.record.trace_file import TraceLoadError, dump_trace, trace_filename
from pytest_tracebench.replay.rerun import rerun
from pytest_tracebench.replay.viewer import Filters, run_cli
from pytest_tracebench.report import build_report, find_run, load_report
from pytest_tracebench.report.saved_runs import ReportLoadError
from pytest_tracebench.report.terminal import clean, render_terminal
from pytest_tracebench.score.calibration.command import run
from pytest_tracebench.score.compare import compare_gates, compare_reports
from pytest_tracebench.settings import (
    OPTIONS,
    ConfigError,
    Settings,
    add_options,
    build_settings,
    find_pyproject,
    read_pyproject,
)

_SCHEMAS: dict[str, type[BaseModel]] = {
    "trace": Trace,
    "header": TraceHeader,
    "step": Step,
    "end": TraceEnd,
    "report": EvaluationReport,
}


def _out(line: str, file: Any = None) -> None:
    """Print one line. Every line we print can hold a file name or a string from a trace:
    control characters are shown escaped (``\\x0a``, ``\\x1b``), so a name holding a newline
    and terminal escapes cannot forge a line (``ok: 99 steps``) or recolour the terminal."""
    print(clean(line), file=file if file is not None else sys.stdout)


def _err(message: str) -> None:
    _out(message, file=sys.stderr)


def load_inputs(paths: Sequence[str], fmt: str | None,
                failures: list[str]) -> Iterator[tuple[Path, list[Trace]]]:
    """Import every input, reporting skips and failures on stderr as they happen."""
    importers = get_importers()
    seen_any = False
    for path, skip in iter_trace_inputs(paths, importers):
        seen_any = True
        if skip is not None:
            _err(f"{path}: skipped: {skip}")
            continue
        try:
            traces = import_path(path, format=fmt, importers=importers)
        except TraceLoadError as exc:
            _err(str(exc))
            failures.append(str(path))
            continue
        for trace in traces:
            for warning in trace.warnings:
                _err(f"warning: {warning}")
        yield path, traces
    if not seen_any:
        _err("tracebench: error: no input files found in " + ", ".join(paths))
        failures.append("<none>")


def _cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(_SCHEMAS[args.what].model_json_schema(), indent=2))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    failures: list[str] = []
    for path, traces in load_inputs(args.paths, args.format, failures):
        for trace in traces:
            status = trace.end.status if trace.end is not None else "aborted"
            _out(f"{path}: ok: {len(trace.steps)} steps, {status}, "
                 f"format {trace.header.source.format}")
    return 1 if failures else 0


def _cmd_formats(args: argparse.Namespace) -> int:
    for importer in get_importers():
        print(f"{importer.name:22} {importer.description}")
    return 0


def _safe_name(text: str) -> str:
    return trace_filename(text).removesuffix(".jsonl")


def _cmd_convert(args: argparse.Namespace) -> int:
    failures: list[str] = []
    loaded = list(load_inputs(args.paths, args.format, failures))
    # A converted trajectory is a trace we write: redact it like one we record.
    redactor = redactor_from_settings(_settings(args))
    total = sum(len(traces) for _, traces in loaded)
    out = Path(args.output)
    single = total == 1 and not out.is_dir() and not args.output.endswith(("/", "\\"))
    suffix = ".jsonl" if args.to == "tracebench" else ".json"
    written: set[Path] = set()
    for path, traces in loaded:
        for trace in traces:
            trace = redact_trace(trace, redactor)  # first: the task id names the file
            stem = _safe_name(
                f"{trace.header.source.format}-{trace.header.task.id}-{trace.trace_id[:8]}")
            target = out if single else out / (stem + suffix)
            number = 1
            while target in written:
                # Two inputs of one trace id (a copy, a re-export): each keeps its own file
                # rather than the second silently replacing the first.
                number += 1
                target = out / f"{stem}-{number}{suffix}"
            written.add(target)
            if args.to == "tracebench":
                dump_trace(trace, target)
            else:
                try:
                    document = to_atif(trace)
                except AtifExportError as exc:
                    _err(f"{path}: cannot write ATIF: {exc}")
                    failures.append(str(path))
                    continue
                write_text(target, json.dumps(document, indent=2) + "\n")
            _out(f"{path} -> {target} ({len(trace.steps)} steps)")
    if total == 0 and not failures:
        _err("tracebench: error: no trace to convert")
        return 1
    return 1 if failures else 0


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the nearest pyproject.toml, overridden by this command's options."""
    cli = {opt.key: getattr(args, f"tracebench_{opt.key}", None) for opt in OPTIONS
           if not opt.pytest_only}
    path = find_pyproject(Path.cwd())
    return build_settings(read_pyproject(path), None, cli,
                          pyproject_name=f"{path} [tool.tracebench]")


def _cmd_detectors(args: argparse.Namespace) -> int:
    pipeline = Pipeline.from_settings(_settings(args))
    for detector in pipeline.detectors:
        shown = describe_thresholds(detector)
        print(f"{detector.name:22} {detector.category:22} {detector.description}")
        if shown:
            print(f"{'':22} thresholds: {shown}")
    return 0


def _finish(report: EvaluationReport, settings: Settings, verbose: bool,
            base_dir: Path, traces: dict[str, Trace] | None = None) -> int:
    """The end-of-run stage (:func:`finish`, as under pytest), printed for a terminal; the
    return code: 1 when a gate failed or a file could not be written. ``traces``: the analysed
    runs by id, for the dashboard (else it reads the results' files)."""
    finished = finish(report, settings, base_dir=base_dir, cwd=Path.cwd(), traces=traces,
                      json_to_stdout=True)
    notes = sys.stdout
    if finished.json_to_stdout:
        print(report.model_dump_json(indent=2))
        notes = sys.stderr  # stdout holds the JSON only
    else:
        for line in render_terminal(report, verbose=verbose):
            _out(line)  # a saved report (`tracebench report`) is data like any trace
    if finished.json_path is not None:
        _out(f"JSON report: {settings.json_path}")
    if finished.html_path is not None:
        _out(f"HTML dashboard: {finished.html_path}", file=notes)
    if finished.saved_path is not None:
        _out(f"saved run: {finished.saved_path}", file=notes)
    failure = finished.write_error
    if failure is not None:  # worded as main() words any OSError
        _err(f"tracebench: error: {failure.path + ': ' if failure.path else ''}"
             f"{failure.problem}")
    return 0 if finished.passed and finished.write_error is None else 1


def _base_dir(settings: Settings) -> Path:
    return settings.dir if settings.dir.is_absolute() else Path.cwd() / settings.dir


def _cmd_analyze(args: argparse.Namespace) -> int:
    if args.address is not None and args.engine != "ray":
        raise EngineError("--address names a Ray cluster; use it with --engine ray")
    settings = _settings(args)
    errors: list[str] = []
    # The dashboard is written from the runs as analysed, not read again (issue 18).
    traces: dict[str, Trace] | None = {} if settings.html is not None else None
    results = analyze_paths(args.paths, settings, fmt=args.format, jobs=args.jobs,
                            errors=errors, engine=args.engine, address=args.address,
                            traces=traces)
    if not results and errors:
        return 1
    report = build_report(results, settings, cwd=Path.cwd())
    status = _finish(report, settings, args.verbose, _base_dir(settings), traces)
    return 1 if errors else status


def _cmd_report(args: argparse.Namespace) -> int:
    settings = _settings(args)
    report = load_report(Path(args.report))
    report.gates = []
    return _finish(report, settings, args.verbose, _base_dir(settings))


def _cmd_compare(args: argparse.Namespace) -> int:
    settings = _settings(args)
    base_dir = _base_dir(settings)
    base = load_report(find_run(base_dir, args.base))
    new = load_report(find_run(base_dir, args.new))
    diff = compare_reports(base, new)
    if args.json_out:
        print(diff.model_dump_json(indent=2))
    else:
        _print_comparison(diff)
    failed = False
    for gate in compare_gates(settings.compare_fail, base, new):
        _out(f"gate {gate.name}: {'PASSED' if gate.passed else 'FAILED'}: {gate.message}",
             file=sys.stderr if args.json_out else sys.stdout)
        failed = failed or not gate.passed
    return 1 if failed else 0


def _print_comparison(diff: Comparison) -> None:
    _out(f"mean score: {diff.mean_score.base} -> {diff.mean_score.new}    "
         f"pass rate: {diff.pass_rate.base} -> {diff.pass_rate.new}")
    print()
    print("per task:")
    for task in diff.tasks:
        sign = "" if task.delta is None else f"{task.delta:+g}"
        changes = []
        if task.appeared:
            changes.append("+" + ", +".join(task.appeared))
        if task.disappeared:
            changes.append("-" + ", -".join(task.disappeared))
        if task.only_in:
            changes.append(f"only in {task.only_in}")
        _out(f"  {task.task}: {task.base} -> {task.new} {sign}  "
             + "; ".join(changes))
    print()
    print("per detector:")
    for row in diff.detectors:
        _out(f"  {row.detector:24} {row.base:4} -> {row.new:4} ({row.delta:+d})")


def _cmd_export(args: argparse.Namespace) -> int:
    errors: list[str] = []
    try:
        written = export(args.paths, args.output, _settings(args), to=args.to, jobs=args.jobs,
                         errors=errors)
    except AnalysisUnavailable as exc:
        _err(f"tracebench: error: {exc}")
        return 2
    for path in written:
        _out(f"wrote {path}")
    return 1 if errors else 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    return run(args.paths, _settings(args), jobs=args.jobs, fmt=args.format,
               json_path=args.json_out, write_model=args.write_model, html=args.html_out,
               c=args.c, markdown=args.markdown, labels=args.labels,
               command="tracebench calibrate " + " ".join(sys.argv[2:]))


def _cmd_replay(args: argparse.Namespace) -> int:
    import re

    path = Path(args.path)
    if not args.follow and not path.exists():
        _err(f"{path}: no such file or directory")
        return 1
    try:
        grep = re.compile(args.grep, re.I) if args.grep else None
    except re.error as exc:
        _err(f"tracebench: error: --grep {args.grep!r}: {exc}")
        return 2
    filters = Filters(kinds=set(args.kind or []), start=args.start, stop=args.stop, grep=grep)
    findings = args.findings if args.findings is not None else (
        not args.follow and path.is_file() and path.stat().st_size < 50_000_000)
    return run_cli(path, fmt=args.format, filters=filters, single=args.step,
                   follow_mode=args.follow, interactive_mode=args.interactive,
                   findings=findings, timeout=args.timeout,
                   redactor=redactor_from_settings(_settings(args)))


def _cmd_rerun(args: argparse.Namespace) -> int:
    workspace = Path(args.workspace)
    if not workspace.is_dir():
        _err(f"{workspace}: not a directory (--workspace)")
        return 2
    trace = import_path(Path(args.path), format=args.format)[0]
    report = rerun(trace, workspace, timeout=args.timeout, keep=args.keep)
    for index, why in report.skipped:
        _out(f"step {index + 1}: skipped: {why}")
    for diff in report.differences:
        _out(f"step {diff.step + 1} ({diff.kind} `{diff.name}`): {diff.what} differs: "
             f"recorded {clean(repr(diff.expected))[:200]}, now {clean(repr(diff.actual))[:200]}")
    verdict = "reproduced" if not report.differences else \
        f"{len(report.differences)} difference(s)"
    _out(f"rerun of {args.path}: {report.replayed} step(s) re-executed, {verdict}"
         + (f"; workspace kept at {report.workspace}" if args.keep else ""))
    return 1 if report.differences else 0


#: What ``tracebench report`` honours: gates, outputs, saving, redaction of what it writes.
_REPORT_OPTIONS = ("dir", "redact", "redact_patterns", "redact_rules", "plugins", "min_score",
                   "fail_on", "fail_under", "json", "html", "self_contained_html", "save",
                   "autosave", "compare", "compare_fail")


class _Parser(argparse.ArgumentParser):
    """A command's parser without prefix matching: ``analyze --repeat=2`` (a pytest option)
    was taken for ``--repeat-decay`` instead of refused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracebench",
        description="Record, analyse and report AI coding-agent traces.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    schema = sub.add_parser("schema", help="print the JSON Schema of a model")
    schema.add_argument("what", nargs="?", default="trace", choices=sorted(_SCHEMAS),
                        help="which model (default: trace)")
    schema.set_defaults(func=_cmd_schema)

    fmt_help = "input format (default: detected from each file); see `tracebench formats`"
    validate = sub.add_parser("validate", help="check that trace files load (any format)")
    validate.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    validate.add_argument("--format", default=None, help=fmt_help)
    validate.set_defaults(func=_cmd_validate)

    formats = sub.add_parser("formats", help="list the trajectory formats that can be imported")
    formats.set_defaults(func=_cmd_formats)

    convert = sub.add_parser("convert", help="convert trajectories to tracebench or ATIF")
    convert.add_argument("paths", nargs="+", metavar="IN", help="files or directories")
    convert.add_argument("--to", choices=("tracebench", "atif"), default="tracebench",
                         help="output format (default: tracebench JSON Lines)")
    convert.add_argument("-o", "--output", required=True, metavar="OUT",
                         help="output file (one trace) or directory (several)")
    convert.add_argument("--format", default=None, help=fmt_help)
    convert.set_defaults(func=_cmd_convert)

    analyze = sub.add_parser("analyze", help="detect, score and cluster trace files (any "
                                             "format); apply gates")
    analyze.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    analyze.add_argument("--format", default=None, help=fmt_help)
    analyze.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                         help="analyse in N processes (0: one per core)")
    analyze.add_argument("--engine", choices=("local", "ray"), default="local",
                         help="where per-trace analysis runs: local processes (default) or "
                              "Ray tasks (pip install 'pytest-tracebench[ray]')")
    analyze.add_argument("--address", default=None, metavar="HOST:PORT",
                         help="Ray cluster to use with --engine ray (default: RAY_ADDRESS, "
                              "else a new local Ray instance)")
    analyze.add_argument("-v", "--verbose", action="store_true",
                         help="full report per trace, score breakdowns, cluster examples")
    add_options(analyze.add_argument, "--", pytest=False)
    analyze.set_defaults(func=_cmd_analyze)

    report = sub.add_parser("report", help="render a saved JSON report; apply gates")
    report.add_argument("report", metavar="REPORT.json")
    report.add_argument("-v", "--verbose", action="store_true")
    # A saved report is re-rendered, not re-analysed: only what acts on results is offered.
    add_options(report.add_argument, "--", pytest=False, only=_REPORT_OPTIONS)
    report.set_defaults(func=_cmd_report)

    compare = sub.add_parser("compare", help="differences between two reports or saved runs")
    compare.add_argument("base", metavar="BASE", help="report path, or saved run number/name")
    compare.add_argument("new", metavar="NEW", help="report path, or saved run number/name")
    compare.add_argument("--json-out", action="store_true", help="print the diff as JSON")
    add_options(compare.add_argument, "--", pytest=False,
                only=("dir", "redact", "redact_patterns", "redact_rules", "plugins",
                      "compare_fail"))
    compare.set_defaults(func=_cmd_compare)

    export = sub.add_parser("export", help="write the results, findings and steps tables "
                                           "of reports or traces (extra: analysis)")
    export.add_argument("paths", nargs="+", metavar="PATH",
                        help="JSON reports, or trace files and directories (analysed first)")
    export.add_argument("--to", choices=("parquet", "csv"), default="parquet",
                        help="file format (default: parquet)")
    export.add_argument("-o", "--output", default="tracebench-tables", metavar="DIR",
                        help="where results.*, findings.* and steps.* go "
                             "(default: tracebench-tables)")
    export.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                        help="analyse trace inputs in N processes (0: one per core)")
    add_options(export.add_argument, "--", pytest=False,
                only=("plugins", "detectors", "disable", "thresholds", "calibration",
                      "redact", "verdicts"))
    export.set_defaults(func=_cmd_export)

    replay = sub.add_parser("replay", help="step through a trace (any format) in order")
    replay.add_argument("path", metavar="FILE")
    replay.add_argument("--format", default=None, help=fmt_help)
    replay.add_argument("--kind", action="append", metavar="KIND",
                        help="only steps of this kind (repeatable)")
    replay.add_argument("--from", dest="start", type=int, metavar="N", help="from step N")
    replay.add_argument("--to", dest="stop", type=int, metavar="N", help="up to step N")
    replay.add_argument("--step", type=int, metavar="N", help="show step N in full")
    replay.add_argument("--grep", metavar="REGEX", help="only steps matching REGEX")
    replay.add_argument("--follow", action="store_true",
                        help="keep printing steps as the trace grows, until its end record")
    replay.add_argument("--timeout", type=float, default=None, metavar="S",
                        help="with --follow: stop after S seconds without a new step")
    replay.add_argument("-i", "--interactive", action="store_true",
                        help="page through the steps on a terminal (plain output otherwise)")
    replay.add_argument("--findings", dest="findings", action="store_true", default=None,
                        help="mark findings at their steps (default for files under 50 MB)")
    replay.add_argument("--no-findings", dest="findings", action="store_false",
                        help="stream without analysing (constant memory)")
    replay.set_defaults(func=_cmd_replay)

    rerun = sub.add_parser("rerun", help="re-execute a run's commands and edits in a copy of "
                                         "a workspace; report differing observations")
    rerun.add_argument("path", metavar="FILE")
    rerun.add_argument("--workspace", required=True, metavar="DIR",
                       help="the task's starting workspace (copied, never changed)")
    rerun.add_argument("--format", default=None, help=fmt_help)
    rerun.add_argument("--timeout", type=float, default=300.0, metavar="S",
                       help="per command (default 300)")
    rerun.add_argument("--keep", action="store_true", help="keep the re-executed workspace")
    rerun.set_defaults(func=_cmd_rerun)

    calibrate = sub.add_parser(
        "calibrate", help="measure detectors and the score against the verifier's verdicts "
                          "on verified runs, and fit the score to them (extra: calibrate)")
    calibrate.add_argument("paths", nargs="+", metavar="RUNS",
                           help="folders of runs, each trajectory with its verdict beside it "
                                "(the first folder level below each is a source)")
    calibrate.add_argument("--format", default=None, help=fmt_help)
    calibrate.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                           help="analyse in N processes (0: one per core)")
    calibrate.add_argument("--json", dest="json_out", default=None, metavar="PATH",
                           help="write the measures as JSON (- for stdout)")
    calibrate.add_argument("--write-model", default=None, metavar="PATH",
                           help="write the score model fitted on these runs; use it with "
                                "[tool.tracebench] calibration = \"PATH\" or --calibration")
    calibrate.add_argument("--html", dest="html_out", default=None, metavar="PATH",
                           help="write a dashboard of these runs with the calibration view")
    calibrate.add_argument("--markdown", default=None, metavar="PATH",
                           help="write the measured tables as Markdown into PATH, between "
                                "<!-- calibrate:begin --> and <!-- calibrate:end -->")
    calibrate.add_argument("--labels", default=None, metavar="FILE",
                           help="a reviewer's labels (JSON lines of trace_id, detector, steps, "
                                "label: the dashboard's download): report each detector's "
                                "precision against them (needs no verdicts)")
    calibrate.add_argument("--c", type=float, default=None, metavar="C",
                           help="regularisation of the fit (smaller is stronger; default "
                                "0.5)")
    add_options(calibrate.add_argument, "--", pytest=False,
                only=("plugins", "detectors", "disable", "thresholds", "calibration"))
    calibrate.set_defaults(func=_cmd_calibrate)

    detectors = sub.add_parser("detectors", help="list the detectors with their settings")
    add_options(detectors.add_argument, "--", pytest=False,
                only=("plugins", "detectors", "disable", "thresholds"))
    detectors.set_defaults(func=_cmd_detectors)
    return parser


class _RedactingStream:
    """``sys.stdout``/``sys.stderr`` with secrets redacted from every write: a path given as a
    pre-signed URL, a task id or an error message quoting a trajectory reaches the terminal
    (and CI logs) like any report. One ``write`` is redacted whole: every verb prints a
    record (a step, a line) in one call."""

    def __init__(self, stream: Any, redactor: Any) -> None:
        self._stream = stream
        self._redactor = redactor

    def write(self, text: str) -> int:
        self._stream.write(self._redactor.redact_text(text) if text else text)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    stdout, stderr = sys.stdout, sys.stderr
    redactor = default_redactor()
    sys.stdout = _RedactingStream(stdout, redactor)
    sys.stderr = _RedactingStream(stderr, redactor)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    for position, word in enumerate(words, 1):
        if "\x00" in word:  # no path or value can hold one; open() would raise ValueError
            _err(f"tracebench: error: argument {position} contains a NUL byte")
            return 2
    args = parser.parse_args(words)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        _err("tracebench: interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _err(f"tracebench: error: {where}{exc.strerror or exc}")
        return 1
    except TraceLoadError as exc:  # a command that reads one trace: the file's one line
        _err(str(exc))
        return 1
    except MemoryError:
        _err("tracebench: error: out of memory (an address-space limit?); lower "
             "TRACEBENCH_MAX_TRACE_MB to refuse large files before reading them")
        return 1
    except (ConfigError, PluginLoadError, EngineError) as exc:
        _err(f"tracebench: error: {exc}")
        return 2
    except ReportLoadError as exc:
        _err(f"tracebench: error: {exc}")
        return 1
