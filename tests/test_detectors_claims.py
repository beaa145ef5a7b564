from __future__ import annotations

import pytest

from pytest_tracebench.detectors.claims import claims_in

from ._traces import edit, fail, findings, green, make, patterns


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("All tests pass now.", "tests"),
        ("The tests passed!", "tests"),
        ("Great, the existing tests are passing.", "tests"),
        ("The issue is fixed.", "done"),
        ("I have successfully fixed the bug in the parser.", "done"),
        ("I'm done.", "done"),
        ("Let me run the tests to make sure all tests pass.", None),
        ("This should fix the issue.", None),
        ("If all tests pass, I will submit.", None),
        ("The tests still fail.", None),
        ("Not all tests pass yet.", None),
    ],
)
def test_claim_recognition(text: str, kind: str | None) -> None:
    found = claims_in(text)
    assert [k for k, _ in found] == ([kind] if kind else [])


def test_claim_contradicted_by_the_last_test_run() -> None:
    def build(rec):
        edit(rec)
        fail(rec, ids=("tests/test_api.py::test_timeout",))
        rec.message("All tests pass now, the issue is fixed.")
        rec.submit("diff")

    (finding,) = findings("false_success_claim", make(build))
    assert finding.severity == "high"
    assert finding.evidence["pattern"] == "contradicted_by_tests"
    assert finding.evidence["failing"] == ["tests/test_api.py::test_timeout"]
    # The finding is about the message that claims (step 3), backed by the test run (step 2).
    assert finding.steps == [2, 1]


def test_claim_with_no_test_at_all() -> None:
    def build(rec):
        edit(rec)
        rec.message("All tests pass.")

    assert patterns("false_success_claim", make(build)) == ["unverified_claim"]


def test_true_claims_and_early_failures_do_not_fire() -> None:
    def build(rec):
        fail(rec)  # reproduces the bug first
        edit(rec)
        green(rec)
        rec.message("All tests pass now. The issue is fixed.")

    def verified_by_script(rec):
        edit(rec)
        rec.command("python reproduce_issue.py", exit_code=0, stdout="fixed")
        rec.message("The issue is fixed.")

    assert patterns("false_success_claim", make(build)) == []
    assert patterns("false_success_claim", make(verified_by_script)) == []


def test_uncertain_fix_masking_and_hedging() -> None:
    def masking(rec):
        rec.edit("src/client.py", old="timeout=1", new="timeout=30")
        rec.edit("src/db.py", old="conn.commit()",
                 new="try:\n    conn.commit()\nexcept Exception:\n    pass")
        rec.edit("src/poll.py", old="fetch()", new="time.sleep(2)\nfetch()")

    def hedged(rec):
        rec.message("The cache key ignores the locale.")
        edit(rec)
        green(rec)
        rec.message("I changed the key. This might fix it, but I am not sure the locale is "
                    "the cause.")

    def explored_then_confident(rec):
        rec.message("Maybe the problem is the cache. I think this might be it.")
        edit(rec)
        green(rec)
        rec.message("The cache key ignored the locale; it includes it now and the tests "
                    "pass.")

    def still_failing(rec):
        edit(rec)
        rec.message("```python\nkey = (path, locale)\n```\nUnfortunately the error still "
                    "occurs when the locale is unset.")

    assert patterns("uncertain_fix", make(masking)) == ["raised_limit", "broad_except",
                                                        "sleep"]
    (finding,) = findings("uncertain_fix", make(hedged))
    assert finding.evidence["pattern"] == "closing_doubt"
    assert finding.evidence["hedges"] == ["might", "not sure"]
    assert "This might fix it" in finding.message
    # Hedging while exploring is how a careful agent thinks; the closing word is what counts.
    assert patterns("uncertain_fix", make(explored_then_confident)) == []
    assert patterns("uncertain_fix", make(still_failing)) == ["closing_doubt"]


def test_raising_a_limit_is_not_masking_when_the_task_asks_for_it() -> None:
    def build(rec):
        rec.edit("client.py", old="MAX_RETRIES = 0", new="MAX_RETRIES = 3")

    plain = make(build)
    asked = make(build, task={"id": "t", "description": "fetch() should retry 3 times."})
    assert patterns("uncertain_fix", plain) == ["raised_limit"]
    assert patterns("uncertain_fix", asked) == []
