from __future__ import annotations

from ._traces import edit, fail, green, make, patterns


def test_inconsistent_flow_patterns() -> None:
    def blind_edit(rec):
        rec.read("src/other.py", content="b = 1")  # the agent does read files...
        rec.edit("src/app.py", old="a", new="b")  # ...but not this one

    def after_submit(rec):
        rec.submit("diff")
        rec.command("ls", exit_code=0, stdout=".")

    def flip_flop(rec):
        rec.read("src/app.py", content="a = 1")
        edit(rec)
        rec.edit("src/app.py", old="a = 2", new="a = 1")
        edit(rec)
        rec.edit("src/app.py", old="a = 2", new="a = 1")
        edit(rec)

    def broken_plan(rec):
        rec.read("src/app.py", content="a = 1")
        edit(rec)
        rec.message("Now let me run the tests to confirm.")
        rec.submit("diff")

    assert patterns("inconsistent_flow", make(blind_edit)) == ["edit_without_read"]
    assert patterns("inconsistent_flow", make(after_submit)) == ["after_submit"]
    assert patterns("inconsistent_flow", make(flip_flop)) == ["flip_flop"]
    assert "plan_contradicted" in patterns("inconsistent_flow", make(broken_plan))


def test_revert_test_redo_is_a_baseline_check_not_a_flip_flop() -> None:
    def build(rec):
        rec.read("src/app.py", content="a = 1")
        edit(rec)
        fail(rec)
        rec.command("git checkout src/app.py", exit_code=0)
        fail(rec)
        edit(rec)
        green(rec)

    assert patterns("inconsistent_flow", make(build)) == []


def test_ignored_error_patterns() -> None:
    def error_then_submit(rec):
        rec.read("src/app.py", content="a = 1")
        edit(rec)
        rec.command("python app.py", exit_code=1,
                    stdout="Traceback (most recent call last):\nKeyError: 'user'")
        rec.submit("diff")

    def failed_edit(rec):
        rec.read("src/app.py", content="a = 1")
        rec.step("edit", "str_replace", input={"path": "src/app.py", "old": "x", "new": "y"},
                 error="No replacement was performed: old_str did not appear verbatim")
        green(rec)

    def acknowledged(rec):
        rec.command("python app.py", exit_code=1, stdout="Traceback\nKeyError: 'user'")
        rec.message("The KeyError shows the user key is missing; fix the lookup.")
        rec.read("src/app.py", content="a = 1")
        edit(rec)
        green(rec)

    def grep_found_nothing(rec):
        rec.command("grep -rn old_name src", exit_code=1, stdout="")
        rec.submit("diff")

    assert patterns("ignored_error", make(error_then_submit)) == ["error_then_end"]
    assert patterns("ignored_error", make(failed_edit)) == ["failed_edit"]
    assert patterns("ignored_error", make(acknowledged)) == []
    assert patterns("ignored_error", make(grep_found_nothing)) == []


def test_a_user_speaking_after_finish_starts_a_new_turn_not_an_inconsistency() -> None:
    """Multi-turn conversations: the agent finishes, the user asks for more, the agent works
    again and finishes again. Nothing was done after a submission within its turn."""
    def two_turns(rec):
        rec.read("src/app.py", content="a = 1")
        edit(rec)
        rec.submit("diff")
        rec.message("Thanks. Now also rename the helper.", role="user")
        rec.read("src/app.py", content="a = 2")
        rec.edit("src/app.py", old="a = 2", new="b = 2")
        rec.submit("diff 2")

    def near_miss(rec):  # the same, but the agent acts again before the user speaks
        rec.read("src/app.py", content="a = 1")
        edit(rec)
        rec.submit("diff")
        rec.command("ls", exit_code=0, stdout=".")
        rec.message("Thanks. Now also rename the helper.", role="user")
        rec.read("src/app.py", content="a = 2")
        rec.submit("diff 2")

    def silent_user(rec):  # an empty user message is no new request
        rec.submit("diff")
        rec.message("   ", role="user")
        rec.command("ls", exit_code=0, stdout=".")

    assert "after_submit" not in patterns("inconsistent_flow", make(two_turns))
    assert patterns("inconsistent_flow", make(near_miss)).count("after_submit") == 1
    assert "after_submit" in patterns("inconsistent_flow", make(silent_user))
