from __future__ import annotations

from ._traces import edit, fail, findings, green, make, patterns


def test_same_action_same_observation_fires_at_four() -> None:
    def build(rec):
        rec.read("src/app.py", content="x")
        for _ in range(4):
            rec.command("ls src", exit_code=0, stdout="app.py\n")

    (finding,) = findings("retry_loop", make(build))
    assert finding.evidence["pattern"] == "same_action_same_observation"
    assert finding.evidence["repeats"] == 4
    assert finding.severity == "high"
    assert finding.steps == [1, 2, 3, 4]


def test_three_repeats_or_changing_output_do_not_fire() -> None:
    def three(rec):
        for _ in range(3):
            rec.command("ls src", exit_code=0, stdout="app.py\n")

    def changing(rec):
        for n in range(5):
            rec.command("cat log.txt", exit_code=0, stdout=f"line {n}\n")

    assert patterns("retry_loop", make(three)) == []
    assert patterns("retry_loop", make(changing)) == []


def test_masked_ids_and_timestamps_still_count_as_the_same_observation() -> None:
    def build(rec):
        for n in range(4):
            rec.command("curl http://api/x", exit_code=7,
                        stdout=f"Error: connection refused at 2026-11-2{n}T10:00:0{n}Z "
                               f"req={n}a1b2c3d4e5f6 pid 4242{n}")

    assert patterns("retry_loop", make(build)) == ["same_action_same_error"]


def test_same_failing_action_three_times() -> None:
    def build(rec):
        for _ in range(3):
            rec.command("python setup.py build", exit_code=1,
                        stdout="Traceback\nModuleNotFoundError: No module named 'numpy'")

    assert patterns("retry_loop", make(build)) == ["same_action_same_error"]


def test_legitimate_poll_loop_is_allowed() -> None:
    def build(rec):
        for _ in range(8):
            rec.command("sleep 5 && curl -s localhost:8000/health", exit_code=0,
                        stdout="starting")
        rec.command("curl -s localhost:8000/health", exit_code=0, stdout="ok")

    assert patterns("retry_loop", make(build)) == []


def test_alternation_and_repeated_error() -> None:
    def alternating(rec):
        for _ in range(3):
            rec.command("git stash", exit_code=0, stdout="Saved")
            rec.command("git stash pop", exit_code=0, stdout="Restored")

    def same_error(rec):
        for command in ("python -m app", "python app/main.py", "python -c 'import app'"):
            rec.command(command, exit_code=1,
                        stdout="Traceback\nImportError: cannot import name 'Client'")

    assert patterns("retry_loop", make(alternating)) == ["alternation"]
    assert patterns("retry_loop", make(same_error)) == ["repeated_error"]


def test_fix_attempts_without_progress_like_the_seed(seed_trace_path) -> None:
    from pytest_tracebench import load_trace

    (finding,) = findings("retry_loop", load_trace(seed_trace_path))
    assert finding.evidence["pattern"] == "fix_attempts_without_progress"
    # The whole loop: both changes and both failing runs after them (steps 2 to 6).
    assert finding.steps == [1, 2, 4, 5] and finding.evidence["attempts"] == 2
    assert "from step 2 to step 6" in finding.message


def test_a_long_loop_is_one_finding_covering_all_of_it() -> None:
    def build(rec):
        for number in range(10):  # ten edit-and-test cycles, the same failure each time
            edit(rec, new=f"a = {number}")
            fail(rec)

    (finding,) = findings("retry_loop", make(build))
    assert finding.evidence["attempts"] == 10
    assert finding.steps == list(range(20))
    assert "10 fix attempts in a row, from step 1 to step 20" in finding.message


def test_fix_attempts_that_make_progress_do_not_fire() -> None:
    def build(rec):
        fail(rec, ids=("t::a", "t::b", "t::c"))
        edit(rec)
        fail(rec, ids=("t::a", "t::b"))
        edit(rec, new="a = 3")
        fail(rec, ids=("t::a",))
        edit(rec, new="a = 4")
        green(rec)

    assert patterns("retry_loop", make(build)) == []


def test_repeated_messages_are_a_monologue() -> None:
    def build(rec):
        for _ in range(3):
            rec.message("I will now try a different approach.")

    def with_actions_between(rec):
        for _ in range(3):
            rec.message("I will now try a different approach.")
            rec.command("ls", exit_code=0, stdout=".")

    assert patterns("retry_loop", make(build)) == ["repeated_message"]
    assert patterns("retry_loop", make(with_actions_between)) == []


def test_thresholds_are_tunable() -> None:
    def build(rec):
        for _ in range(4):
            rec.command("ls src", exit_code=0, stdout="app.py\n")

    assert patterns("retry_loop", make(build), same_observation=5) == []


def test_reproducing_the_bug_first_is_not_a_fix_attempt() -> None:
    def build(rec):
        fail(rec)  # reproduce before changing anything
        edit(rec)
        fail(rec)  # first attempt fails
        edit(rec, new="a = 3")
        green(rec)

    assert patterns("retry_loop", make(build)) == []
