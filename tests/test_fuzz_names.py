"""Hostile node ids cannot name a file outside the trace directory (property-based)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pytest_tracebench.record.trace_file import trace_filename


@settings(max_examples=500, deadline=None)
@given(nodeid=st.text(max_size=600))
@example("../../etc/passwd")
@example("/abs/path::test")
@example("a\x00b")
@example("..")
@example("x" * 5000)
def test_any_node_id_maps_to_one_safe_file_name(nodeid: str) -> None:
    name = trace_filename(nodeid)
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert name not in (".", "..") and not name.startswith(".")
    assert len(name.encode()) <= 255
    folder = Path("/traces")
    assert (folder / name).resolve().parent == folder


@given(a=st.text(max_size=80), b=st.text(max_size=80))
def test_distinct_ids_that_sanitise_alike_keep_distinct_files(a: str, b: str) -> None:
    if a != b:
        assert trace_filename(a) != trace_filename(b)


@settings(max_examples=500, deadline=None)
@given(text=st.text())
@example("\x1b]0;pwned\x07\x1b[2J\rok")
@example("safe \u202eexe.txt")
@example("test_x\nFAKE 100.0 passed")
def test_terminal_text_holds_no_control_or_bidi_characters(text: str) -> None:
    import unicodedata

    from pytest_tracebench.report.terminal import clean

    out = clean(text)
    assert all(unicodedata.category(ch) != "Cc" for ch in out)  # no newline: one line each
    assert not any("\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069" for ch in out)
