from __future__ import annotations

from ._traces import edit, fail, findings, green, make, patterns


def test_runtime_instability_patterns() -> None:
    def timeout(rec):
        rec.command("python long.py", exit_code=None, timed_out=True)

    def crash(rec):
        rec.command("./server", exit_code=139, stderr="Segmentation fault (core dumped)")

    def errors(rec):
        rec.error(RuntimeError("agent loop crashed"))

    def flaky(rec):
        green(rec)
        fail(rec)

    assert patterns("runtime_instability", make(timeout)) == ["timeout"]
    assert patterns("runtime_instability", make(crash)) == ["crash"]
    assert patterns("runtime_instability", make(errors)) == ["errors"]
    assert patterns("runtime_instability", make(flaky)) == ["flaky"]


def test_pass_then_fail_with_a_change_between_is_not_flaky() -> None:
    def build(rec):
        green(rec)
        edit(rec)
        fail(rec)

    assert patterns("runtime_instability", make(build)) == []


def test_budget_from_the_task_and_from_settings() -> None:
    def build(rec):
        for n in range(12):
            rec.command(f"echo {n}", exit_code=0, stdout=str(n))
        rec.llm([], response="x", input_tokens=900, output_tokens=200)

    over = make(build, task={"id": "t", "budget": {"steps": 10, "tokens": 2000}})
    (finding,) = findings("budget", over)
    assert finding.evidence == {"pattern": "over_steps", "used": 12.0, "limit": 10}
    assert patterns("budget", make(build)) == []
    assert patterns("budget", make(build), tokens=1000) == ["over_tokens"]


def test_aborted_run() -> None:
    def build(rec):
        rec.message("working")

    assert patterns("aborted_run", make(build, end=False)) == ["no_end_record"]
    assert patterns("aborted_run", make(build)) == []
