from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from pytest_tracebench.settings import (
    OPTIONS,
    ConfigError,
    add_options,
    build_settings,
    find_pyproject,
    read_pyproject,
)


def test_later_sources_win() -> None:
    settings = build_settings(
        {"dir": "a", "max_output_chars": 500, "redact": True},
        {"dir": "b", "redact": "false"},
        {"dir": "c", "max_output_chars": None},
    )
    assert settings.dir == Path("c")
    assert settings.max_output_chars == 500
    assert settings.redact is False


def test_lists_from_strings() -> None:
    settings = build_settings(None, {"plugins": "a.b, c\n d"}, None)
    assert settings.plugins == ["a.b", "c", "d"]


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (({"colour": 1}, None, None), "unknown setting 'colour'"),
        ((None, {"redact": "maybe"}, None), "ini file: setting 'redact': expected true/false"),
        ((None, None, {"max_output_chars": "7"}),
         "command line: setting 'max_output_chars': Input should be greater than or equal to 64"),
    ],
)
def test_errors_name_their_source(layers: tuple, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        build_settings(*layers)


def test_pyproject_lookup(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.tracebench]\ndir = "x"\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    found = find_pyproject(sub)
    assert found == tmp_path / "pyproject.toml"
    assert read_pyproject(found) == {"dir": "x"}
    (tmp_path / "pyproject.toml").write_text("[tool.tracebench\n")
    with pytest.raises(ConfigError, match="cannot read"):
        read_pyproject(found)


def test_one_option_table_serves_argparse_too() -> None:
    parser = argparse.ArgumentParser()
    add_options(parser.add_argument, "--", pytest=False)
    args = parser.parse_args(["--dir", "out", "--min-score", "100"])
    assert args.tracebench_dir == "out"
    assert args.tracebench_min_score == "100"
    # What only recording honours is not offered outside pytest.
    assert not hasattr(args, "tracebench_enabled")
    assert not hasattr(args, "tracebench_max_output_chars")
    assert {o.key for o in OPTIONS} >= {"dir", "max_output_chars", "redact", "plugins"}
