"""The ``tracebench`` command: the pipeline's stages on files, outside pytest.

Every subcommand reports bad input as one line (``file:line: field: problem``) on stderr and
exits non-zero; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from . import __version__
from .models import EvaluationReport, Step, Trace, TraceEnd, TraceHeader
from .storage import TraceLoadError, load_trace

_SCHEMAS: dict[str, type[BaseModel]] = {
    "trace": Trace,
    "header": TraceHeader,
    "step": Step,
    "end": TraceEnd,
    "report": EvaluationReport,
}


def _cmd_schema(args: argparse.Namespace) -> int:
    model = _SCHEMAS[args.what]
    print(json.dumps(model.model_json_schema(), indent=2))
    return 0


def iter_trace_files(paths: Sequence[str]) -> list[Path]:
    """Files named, and every ``*.jsonl``/``*.json`` file under directories named, sorted."""
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()
                                and p.suffix in {".jsonl", ".json"}))
        else:
            files.append(path)
    return files


def _cmd_validate(args: argparse.Namespace) -> int:
    failures = 0
    files = iter_trace_files(args.paths)
    if not files:
        print("tracebench: error: no trace files found in " + ", ".join(args.paths),
              file=sys.stderr)
        return 1
    for path in files:
        if not path.exists():
            print(f"{path}: no such file", file=sys.stderr)
            failures += 1
            continue
        try:
            trace = load_trace(path)
        except TraceLoadError as exc:
            print(str(exc), file=sys.stderr)
            failures += 1
            continue
        for warning in trace.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        status = trace.end.status if trace.end is not None else "aborted"
        print(f"{path}: ok: {len(trace.steps)} steps, {status}, "
              f"format {trace.header.source.format}")
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

    validate = sub.add_parser("validate", help="check that trace files load")
    validate.add_argument("paths", nargs="+", metavar="PATH", help="trace files or directories")
    validate.set_defaults(func=_cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("tracebench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
