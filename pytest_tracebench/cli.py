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
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from pydantic import BaseModel

from . import __version__
from ._manager import PluginLoadError
from .config import (
    OPTIONS,
    ConfigError,
    Settings,
    add_options,
    build_settings,
    find_pyproject,
    read_pyproject,
)
from .models import EvaluationReport, Step, Trace, TraceEnd, TraceHeader, TraceResult
from .storage import TraceLoadError, dump_trace

_SCHEMAS: dict[str, type[BaseModel]] = {
    "trace": Trace,
    "header": TraceHeader,
    "step": Step,
    "end": TraceEnd,
    "report": EvaluationReport,
}


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def load_inputs(paths: Sequence[str], fmt: str | None,
                failures: list[str]) -> Iterator[tuple[Path, list[Trace]]]:
    """Import every input, reporting skips and failures on stderr as they happen."""
    from .importers import get_importers, import_path, iter_trace_inputs

    importers = get_importers()
    seen_any = False
    for path, skip in iter_trace_inputs(paths):
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
            print(f"{path}: ok: {len(trace.steps)} steps, {status}, "
                  f"format {trace.header.source.format}")
    return 1 if failures else 0


def _cmd_formats(args: argparse.Namespace) -> int:
    from .importers import get_importers

    for importer in get_importers():
        print(f"{importer.name:22} {importer.description}")
    return 0


def _safe_name(text: str) -> str:
    from .session import trace_filename

    return trace_filename(text).removesuffix(".jsonl")


def _cmd_convert(args: argparse.Namespace) -> int:
    from .exporters import to_atif

    failures: list[str] = []
    loaded = list(load_inputs(args.paths, args.format, failures))
    total = sum(len(traces) for _, traces in loaded)
    out = Path(args.output)
    single = total == 1 and not out.is_dir() and not args.output.endswith(("/", "\\"))
    suffix = ".jsonl" if args.to == "tracebench" else ".json"
    for path, traces in loaded:
        for trace in traces:
            target = out if single else out / (_safe_name(
                f"{trace.header.source.format}-{trace.header.task.id}-{trace.trace_id[:8]}")
                + suffix)
            target.parent.mkdir(parents=True, exist_ok=True)
            if args.to == "tracebench":
                dump_trace(trace, target)
            else:
                target.write_text(json.dumps(to_atif(trace), indent=2) + "\n", encoding="utf-8")
            print(f"{path} -> {target} ({len(trace.steps)} steps)")
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
    from .pipeline import Pipeline

    pipeline = Pipeline.from_settings(_settings(args))
    for detector in pipeline.detectors:
        options = getattr(detector, "options", {})
        shown = ", ".join(f"{k}={v}" for k, v in options.items() if k != "poll_patterns")
        print(f"{detector.name:22} {detector.category:22} {detector.description}")
        if shown:
            print(f"{'':22} thresholds: {shown}")
    return 0


def _format_findings(result: TraceResult) -> list[str]:
    lines = [f"=== {result.task_id} ({result.agent}, {result.step_count} steps, "
             f"{result.status}) ==="]
    if not result.findings:
        lines.append("- no findings")
    for finding in result.findings:
        where = f"Step {finding.steps[0] + 1}" if finding.steps else "Run"
        lines.append(f"- {where}: {finding.detector} [{finding.severity}] -> {finding.message}")
    return lines


def _cmd_analyze(args: argparse.Namespace) -> int:
    from .pipeline import Pipeline

    pipeline = Pipeline.from_settings(_settings(args))
    failures: list[str] = []
    results: list[TraceResult] = []
    for path, traces in load_inputs(args.paths, args.format, failures):
        for trace in traces:
            result = pipeline.analyze(trace, path=str(path))
            results.append(result)
            if args.json != "-":
                print("\n".join(_format_findings(result)))
                print()
    counts: dict[str, int] = {}
    for result in results:
        for finding in result.findings:
            counts[finding.detector] = counts.get(finding.detector, 0) + 1
    if args.json:
        report = EvaluationReport(created_at=time.time(), results=results,
                                  config=pipeline.settings.model_dump(mode="json"))
        report.summary.traces = len(results)
        report.summary.findings_per_detector = dict(sorted(counts.items()))
        text = report.model_dump_json(indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
            print(f"JSON report: {args.json}")
    if args.json != "-":
        print(f"{len(results)} trace(s), " + (", ".join(f"{k}: {v}" for k, v in
                                                           sorted(counts.items())) or
                                             "no findings"))
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracebench",
        description="Record, analyse and report AI coding-agent traces.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
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

    analyze = sub.add_parser("analyze", help="run the detectors on trace files (any format)")
    analyze.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    analyze.add_argument("--format", default=None, help=fmt_help)
    analyze.add_argument("--json", default=None, metavar="FILE",
                         help="write the JSON report to FILE ('-' for stdout, no text)")
    add_options(analyze.add_argument, "--", pytest=False)
    analyze.set_defaults(func=_cmd_analyze)

    detectors = sub.add_parser("detectors", help="list the detectors with their settings")
    add_options(detectors.add_argument, "--", pytest=False)
    detectors.set_defaults(func=_cmd_detectors)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        _err("tracebench: interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        _err(f"tracebench: error: {exc.filename or ''}: {exc.strerror or exc}")
        return 1
    except (ConfigError, PluginLoadError) as exc:
        _err(f"tracebench: error: {exc}")
        return 2
