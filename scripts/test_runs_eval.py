"""Measure how the importers see test runs in the real trajectories of the corpus.

Every trajectory the current importers can read (``import_path`` on each file or run folder of
``../shared/data/{dev,native,real}``) is imported; every shell step (a step whose input has a
``command``) is classified again with :func:`classify_command`, and the output of each test run
is parsed with :func:`parse_test_output`. Printed as Markdown: per runner, how many commands
were classified as test runs, how many of those got counts and how many only a verdict (tox's
``congratulations``, a ``FAILED (failures=1)`` whose ``Ran`` line a grep dropped); per source,
how many files were imported and which could not be (those are skipped with their reason, not
counted).

It is the measure behind the test-run parsers: run it before and after changing them.

    .venv/bin/python scripts/test_runs_eval.py                 # the tables
    .venv/bin/python scripts/test_runs_eval.py --uncounted 20  # and test runs without counts
    .venv/bin/python scripts/test_runs_eval.py --corpus /path/to/shared/data
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pytest_tracebench.detectors.view import output_text  # noqa: E402
from pytest_tracebench.importers import import_path, iter_trace_inputs  # noqa: E402
from pytest_tracebench.parsers import classify_command, parse_test_output  # noqa: E402
from pytest_tracebench.record.trace_file import TraceLoadError  # noqa: E402

PARTS = ("dev", "native", "real")


def find_corpus() -> Path | None:
    """``shared/data`` beside the repository or beside one of its parents (a worktree), or
    where ``TRACEBENCH_DEV_CORPUS`` (the ``dev`` folder) says."""
    named = os.environ.get("TRACEBENCH_DEV_CORPUS")
    if named:
        return Path(named).parent
    for parent in REPO.parents:
        candidate = parent / "shared" / "data"
        if (candidate / "dev").is_dir():
            return candidate
    return None


def sources(corpus: Path) -> Iterator[tuple[str, Path]]:
    """``(name, folder)`` of each source: a folder of dev, native or real."""
    for part in PARTS:
        root = corpus / part
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            yield f"{part}/{folder.name}", folder


def runner_of(command: str) -> str:
    info = classify_command(command)
    return str(getattr(info, "runner", "") or info.program or "?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None,
                        help="the shared/data folder (holding dev/, native/, real/)")
    parser.add_argument("--uncounted", type=int, default=0, metavar="N",
                        help="also list up to N test runs per runner that got no counts")
    args = parser.parse_args(argv)
    corpus = args.corpus or find_corpus()
    if corpus is None or not corpus.is_dir():
        print("no corpus found: pass --corpus or set TRACEBENCH_DEV_CORPUS", file=sys.stderr)
        return 2

    recognised: Counter[str] = Counter()
    counted: Counter[str] = Counter()
    verdict_only: Counter[str] = Counter()
    uncounted: dict[str, list[str]] = defaultdict(list)
    shell_steps: Counter[str] = Counter()
    imported: Counter[str] = Counter()
    failed: dict[str, Counter[str]] = defaultdict(Counter)
    by_source: dict[str, Counter[str]] = defaultdict(Counter)

    for name, folder in sources(corpus):
        for path, skip in iter_trace_inputs([folder]):
            if skip is not None:
                continue
            try:
                traces = import_path(path)
            except TraceLoadError as exc:
                reason = str(exc).split(": ", 1)[-1]
                failed[name]["unknown format" if "unknown format" in reason
                             else reason[:70]] += 1
                continue
            imported[name] += 1
            for trace in traces:
                for step in trace.steps:
                    command = step.input.get("command") if isinstance(step.input, dict) else None
                    if not isinstance(command, str) or not command.strip():
                        continue
                    shell_steps[name] += 1
                    if classify_command(command).kind != "test":
                        continue
                    runner = runner_of(command)
                    recognised[runner] += 1
                    by_source[name]["test"] += 1
                    result = parse_test_output(output_text(step))
                    if result is not None and getattr(result, "counted", True):
                        counted[runner] += 1
                        by_source[name]["counted"] += 1
                    elif result is not None:
                        verdict_only[runner] += 1
                    elif args.uncounted and len(uncounted[runner]) < args.uncounted:
                        uncounted[runner].append(f"{name}: {command[:160]!r}")

    print("| runner | classified as test runs | with counts | verdict only |")
    print("|---|---:|---:|---:|")
    for runner, n in recognised.most_common():
        print(f"| {runner} | {n} | {counted[runner]} | {verdict_only[runner]} |")
    print(f"| **all** | **{sum(recognised.values())}** | **{sum(counted.values())}** | "
          f"**{sum(verdict_only.values())}** |")
    print()
    print("| source | files imported | shell steps | test runs | with counts | not imported |")
    print("|---|---:|---:|---:|---:|---|")
    for name, _ in sources(corpus):
        skipped = "; ".join(f"{n} {why}" for why, n in failed[name].most_common(3)) or "-"
        print(f"| {name} | {imported[name]} | {shell_steps[name]} | {by_source[name]['test']} "
              f"| {by_source[name]['counted']} | {skipped} |")
    total_steps = sum(shell_steps.values())
    print()
    print(f"{total_steps} shell steps in {sum(imported.values())} imported files; "
          f"{sum(recognised.values())} classified as test runs, "
          f"{sum(counted.values())} of them with counts.")
    for runner, examples in uncounted.items():
        print(f"\ntest runs without counts, {runner}:")
        for example in examples:
            print(f"  {example}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
