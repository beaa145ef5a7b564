"""Docs that describe code must change with it."""

from __future__ import annotations

import inspect
import re

from pytest_tracebench import hookspecs
from pytest_tracebench.models import STEP_KINDS
from pytest_tracebench.settings import OPTIONS

from .conftest import REPO


def test_every_hook_is_documented_and_nothing_else() -> None:
    specs = {name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("tracebench_")}
    documented = set(re.findall(r"^## `(tracebench_\w+)\(", (REPO / "docs/hooks.md").read_text(),
                                re.M))
    assert documented == specs


def test_every_setting_is_documented() -> None:
    text = (REPO / "docs/configuration.md").read_text()
    rows = set(re.findall(r"^\| `(\w+)` \|", text, re.M))
    assert rows == {opt.key for opt in OPTIONS}


def test_every_step_kind_is_documented() -> None:
    text = (REPO / "docs/trace-format.md").read_text()
    rows = set(re.findall(r"^\| `(\w+)` \| `trace", text, re.M))
    assert rows == set(STEP_KINDS)


def test_readme_starts_with_the_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    commands = [line.strip() for line in blocks[0].splitlines()]
    assert commands == ["bash scripts/bench.sh", "bash scripts/test.sh"]
    ci = [line.strip() for line in (REPO / ".ci/run").read_text().splitlines()
          if line.strip() and not line.startswith("#")]
    # CI runs the README's test command and nothing else, from the repository's root
    # whatever directory .ci/run is started from.
    assert ci == ['cd "$(dirname "$0")/.." || exit 1', commands[1]]


def test_every_importer_is_documented() -> None:
    from pytest_tracebench.importers import get_importers

    text = (REPO / "docs/formats.md").read_text()
    documented = set(re.findall(r"^## `([\w-]+)`$", text, re.M))
    assert documented == {i.name for i in get_importers()}


def test_every_format_has_one_row_in_the_table_at_a_glance() -> None:
    from pytest_tracebench.importers import get_importers

    text = (REPO / "docs/formats.md").read_text()
    table = text[text.index("## Formats at a glance"):text.index("## ATIF written by")]
    rows = re.findall(r"^\| `([\w-]+)` \|", table, re.M)
    assert sorted(rows) == sorted(i.name for i in get_importers())  # one row each
    assert all(line.count(" | ") == 3 for line in table.splitlines() if line.startswith("| `"))


def test_every_detector_and_threshold_is_documented() -> None:
    from pytest_tracebench.detectors import load_detectors
    from pytest_tracebench.manager import get_plugin_manager
    from pytest_tracebench.settings import Settings

    text = (REPO / "docs/detectors.md").read_text()
    sections = dict(re.findall(r"^## `(\w+)`\n(.*?)(?=^## |\Z)", text, re.M | re.S))
    detectors = load_detectors(get_plugin_manager(), Settings())
    assert set(sections) == {d.name for d in detectors}
    for detector in detectors:
        for key in detector.thresholds:
            assert f"| `{key}` |" in sections[detector.name], (detector.name, key)


def test_the_scoring_example_is_what_the_command_prints() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "pytest_tracebench", "analyze",
                          str(REPO / "examples" / "trace.json"), "-v"], capture_output=True,
                         text=True, timeout=300).stdout
    start = out.index("=== Trace Score ===")
    block = out[start:out.index("\n\n", start)]
    assert f"```\n{block}\n```" in (REPO / "docs" / "scoring.md").read_text()


def test_the_readme_quotes_the_measured_recording_cost() -> None:
    """The README's recording figure is the command-step ratio of the generated table."""
    table = (REPO / "docs" / "performance.md").read_text()
    row = re.search(r"^\| `test_record_command_step` \|.*?\| (\d+\.\d+)x \|", table, re.M)
    assert row, "docs/performance.md has no recording row"
    quoted = re.search(r"(\d+\.\d+)x a bare `write\(\)`", (REPO / "README.md").read_text())
    assert quoted, "the README does not quote the recording cost"
    assert quoted.group(1) == f"{float(row.group(1)):.1f}", (quoted.group(1), row.group(1))
