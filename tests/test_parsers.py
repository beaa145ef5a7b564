from __future__ import annotations

import pytest

from pytest_tracebench.parsers import classify_command, parse_test_output


@pytest.mark.parametrize(
    ("command", "kind", "edits"),
    [
        ("pytest -q tests/test_x.py", "test", []),
        ("cd /repo && python -m pytest -x", "test", []),
        ("python3 tests/runtests.py admin_views", "test", []),
        ("go test ./...", "test", []),
        ("cargo test --lib", "test", []),
        ("npm test", "test", []),
        ("tox -e py311", "test", []),
        ("sed -i 's/a/b/' src/app.py && pytest", "test", [("src/app.py", "modify")]),
        ("sed -i 's/a/b/' src/app.py", "edit", [("src/app.py", "modify")]),
        ("cat <<'EOF' > tests/test_new.py\nimport pytest\nEOF", "edit",
         [("tests/test_new.py", "create")]),
        ("echo 'x' >> notes.txt", "edit", [("notes.txt", "modify")]),
        ("rm -f tests/test_old.py", "edit", [("tests/test_old.py", "delete")]),
        ("git checkout -- src/app.py", "edit", [("src/app.py", "revert")]),
        ("git apply fix.patch", "edit", [("fix.patch", "modify")]),
        ("cat src/app.py", "read", []),
        ("grep -rn 'def fetch' src/ | head -5", "read", []),
        ("ls bin/test", "read", []),
        ("nl -ba f.py | sed -n '1,20p'", "read", []),
        ("python script.py > /dev/null 2>&1", "command", []),
        ("pip install -e .", "command", []),
        ("echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git add -A && git diff --cached",
         "submit", []),
    ],
)
def test_classify_command(command: str, kind: str, edits: list[tuple[str, str]]) -> None:
    info = classify_command(command)
    assert info.kind == kind
    assert [(e.path, e.op) for e in info.edits] == edits


def test_pytest_output() -> None:
    text = """
tests/test_a.py ..F.E
=========================== short test summary info ============================
FAILED tests/test_a.py::test_three - AssertionError: boom
ERROR tests/test_a.py::test_five - fixture 'db' not found
==================== 1 failed, 3 passed, 1 error in 0.12s =====================
"""
    result = parse_test_output(text)
    assert result is not None
    assert (result.runner, result.passed, result.failed, result.errors) == ("pytest", 3, 1, 1)
    assert result.failing == ["tests/test_a.py::test_three", "tests/test_a.py::test_five"]
    assert not result.ok
    assert parse_test_output("5 passed in 0.01s").ok


def test_unittest_output() -> None:
    text = """
======================================================================
FAIL: test_fetch (tests.test_client.ClientTests)
----------------------------------------------------------------------
Ran 12 tests in 0.004s

FAILED (failures=1, errors=1, skipped=2)
"""
    result = parse_test_output(text)
    assert result is not None
    assert (result.passed, result.failed, result.errors, result.skipped) == (8, 1, 1, 2)
    assert result.failing == ["tests.test_client.ClientTests.test_fetch"]


def test_go_cargo_jest_sympy() -> None:
    go = parse_test_output("--- FAIL: TestRetry (0.00s)\n--- PASS: TestOK (0.00s)\nFAIL\n"
                           "FAIL\texample.com/x\t0.01s\n")
    assert go is not None and (go.passed, go.failed, go.failing) == (1, 1, ["TestRetry"])
    cargo = parse_test_output("test net::retry ... FAILED\n"
                              "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured")
    assert cargo is not None and (cargo.passed, cargo.failed) == (3, 1)
    assert cargo.failing == ["net::retry"]
    jest = parse_test_output("  ● client \u203a retries\n\n"
                             "Tests:       1 failed, 5 passed, 6 total")
    assert jest is not None and (jest.passed, jest.failed) == (5, 1)
    sympy = parse_test_output("tests finished: 15 passed, 1 failed, in 0.52 seconds")
    assert sympy is not None and (sympy.passed, sympy.failed) == (15, 1)


def test_no_summary_means_no_result() -> None:
    assert parse_test_output("Traceback (most recent call last):\nImportError: x") is None
    assert parse_test_output("") is None
