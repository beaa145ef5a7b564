"""The one settings definition: what is derived from it, and the one coercion per type."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_tracebench import _options
from pytest_tracebench.settings import (
    ConfigError,
    Settings,
    build_settings,
    derive_marker_fields,
    derive_options,
    docs_table,
    override,
    to_bool,
    to_float,
    to_int,
    to_list,
)

from .conftest import REPO


def test_the_committed_option_table_is_the_model_s() -> None:
    """_options.py carries a generated copy (pytest must add options without pydantic)."""
    assert derive_options() == _options.OPTIONS
    assert derive_marker_fields() == _options.MARKER_FIELDS
    assert [opt.key for opt in _options.OPTIONS] == [
        field.alias or name for name, field in Settings.model_fields.items()]


def test_the_committed_docs_table_is_the_model_s() -> None:
    text = (REPO / "docs/configuration.md").read_text(encoding="utf-8")
    table = text.split("<!-- settings:begin (scripts/gen_settings.py) -->\n")[1]
    assert table.split("<!-- settings:end -->")[0] == docs_table()


def test_the_generator_finds_nothing_stale() -> None:
    result = subprocess.run([sys.executable, str(REPO / "scripts/gen_settings.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_help_shows_the_field_default_not_a_copy() -> None:
    by_key = {opt.key: opt for opt in derive_options()}
    assert by_key["max_output_chars"].help.endswith("(default: 100000)")
    assert by_key["repeat_decay"].help.endswith("(default: 0.5)")
    assert by_key["replay_match"].help.endswith("(default: name,args,position)")
    assert "default" not in by_key["min_score"].help  # unset: nothing to show


def test_a_changed_default_changes_the_help(monkeypatch: pytest.MonkeyPatch) -> None:
    field = Settings.model_fields["max_output_chars"]
    monkeypatch.setattr(field, "default", 5000)
    assert {o.key: o for o in derive_options()}["max_output_chars"].help.endswith(
        "(default: 5000)")


@pytest.mark.parametrize("word", ["true", "YES", " on ", "1", 1, True])
def test_bool_true_words(word: object) -> None:
    assert to_bool(word) is True


@pytest.mark.parametrize("word", ["false", "No", "off", "0", 0, False])
def test_bool_false_words(word: object) -> None:
    assert to_bool(word) is False


@pytest.mark.parametrize("word", ["maybe", "ture", "", "2", 2, 0.5, None])
def test_bool_refuses_anything_else(word: object) -> None:
    with pytest.raises(ValueError, match="expected true/false"):
        to_bool(word)


def test_numbers_and_lists() -> None:
    assert to_int(" 7 ") == 7 and to_int(8.0) == 8
    assert to_float("2.5") == 2.5
    for bad in ("abc", True, 1.5):
        with pytest.raises(ValueError, match="Input should be a valid integer"):
            to_int(bad)
    for bad in ("abc", "nan", "inf", False):
        with pytest.raises(ValueError, match="Input should be a valid number"):
            to_float(bad)
    assert to_list("a, b\nc") == ["a", "b", "c"]
    assert to_list(["a{1,2}"]) == ["a{1,2}"]  # a TOML array's items are kept whole
    assert to_list(["a,b", "c"], split_items=True) == ["a", "b", "c"]


@pytest.mark.parametrize(("source", "layer"), [
    ("pyproject.toml [tool.tracebench]", ({"redact": "maybe"}, None, None)),
    ("ini file", (None, {"otel": "sometimes"}, None)),
    ("command line", (None, None, {"autosave": "yess"})),
])
def test_a_bad_bool_from_any_source_is_one_line_naming_it(source: str, layer: tuple) -> None:
    with pytest.raises(ConfigError) as exc:
        build_settings(*layer)
    message = str(exc.value)
    assert message.startswith(f"{source}: setting ")
    assert "expected true/false" in message and "\n" not in message


@pytest.mark.parametrize("value", [-1, 100.5, "101"])
def test_score_gates_are_in_the_score_s_range(value: object) -> None:
    for key in ("min_score", "fail_under"):
        with pytest.raises(ConfigError, match=f"setting '{key}': Input should be"):
            build_settings(None, None, {key: value})


def test_override_checks_like_any_source() -> None:
    base = build_settings(None, None, {"min_score": "40", "fail_on": "a"})
    assert override(base, {"min_score": "70"}, "marker").min_score == 70
    assert override(base, {"min_score": None, "fail_on": None}, "marker").fail_on == []
    assert override(base, {"fail_on": "x, y"}, "marker").fail_on == ["x", "y"]
    with pytest.raises(ConfigError) as exc:
        override(base, {"min_score": "abc"}, "t.py::t")
    assert str(exc.value) == ("t.py::t: setting 'min_score': Input should be a valid number, "
                              "got 'abc'")
    with pytest.raises(ConfigError, match="setting 'replay': Input should be"):
        override(base, {"replay": "sometimes"}, "t.py::t")


def test_the_cli_parses_what_the_table_says(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    _options.add_options(parser.add_argument, "--", pytest=False)
    args = parser.parse_args(["--autosave", "--compare", "--compare-fail", "score_drop:5",
                              "--compare-fail", "findings_rise:x:1"])
    assert args.tracebench_autosave == "true"
    assert args.tracebench_compare == "latest"
    assert args.tracebench_compare_fail == ["score_drop:5", "findings_rise:x:1"]


def test_a_detector_threshold_uses_the_same_bool_coercion() -> None:
    """Any word but true/false/... used to read as False: a check turned off silently."""
    from pytest_tracebench.detectors import load_detectors
    from pytest_tracebench.manager import get_plugin_manager

    pm = get_plugin_manager()
    name = next(d.name for d in load_detectors(pm, Settings())
                if "include_baseline" in d.thresholds)
    for word, expected in (("yes", True), ("off", False)):
        settings = build_settings(None, None, {"thresholds": f"{name}.include_baseline={word}"})
        (detector,) = [d for d in load_detectors(pm, settings) if d.name == name]
        assert detector.options["include_baseline"] is expected
    settings = build_settings(None, None, {"thresholds": f"{name}.include_baseline=maybe"})
    with pytest.raises(ConfigError, match=f"^thresholds: detector '{name}' threshold "
                                          "'include_baseline': expected true/false"):
        load_detectors(pm, settings)
