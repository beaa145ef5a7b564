from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pytest_tracebench import Finding, Settings, TraceResult
from pytest_tracebench.manager import get_plugin_manager
from pytest_tracebench.pipeline import Pipeline, reward
from pytest_tracebench.report import build_report, render_terminal
from pytest_tracebench.score.clusters import cluster, message_template
from pytest_tracebench.score.scoring import breakdown, score, score_result
from pytest_tracebench.score.summary import bootstrap_ci

from ._traces import edit, fail, green, make


def _result(*findings: Finding, outcome: dict | None = None, status: str = "completed"
            ) -> TraceResult:
    return TraceResult(trace_id="t", task_id="task", agent="a", status=status, step_count=5,
                       findings=list(findings), outcome=outcome or {})


def _f(detector: str, severity: str = "medium", message: str = "m", steps=(1,)) -> Finding:
    return Finding(detector=detector, severity=severity, message=message, steps=list(steps))


def _model(tmp_path: Path, **extra: object) -> Path:
    """A small score model: reference chance 50%, retry_loop -1 log-odds, actions -0.5 per
    log(1 + n) above 10 actions."""
    model = {"version": 1, "intercept": 0.0, "terms": [
        {"name": "retry_loop", "kind": "detector", "weight": -1.0},
        {"name": "actions", "kind": "feature", "weight": -0.5,
         "reference": round(math.log1p(10), 4)}], **extra}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model))
    return path


def test_the_score_is_the_models_chance_and_its_breakdown_adds_up(tmp_path: Path) -> None:
    settings = Settings(calibration=_model(tmp_path))
    result = _result(_f("retry_loop", "high"), _f("retry_loop", "low"))
    result.features = {"actions": math.log1p(30)}
    s = score(result, settings)
    logit = -1.0 - 0.5 * (math.log1p(30) - round(math.log1p(10), 4))
    assert s.value == round(100 / (1 + math.exp(-logit)), 1)
    assert s.base == 50.0 and s.model == str(settings.calibration)
    # One line per term, the larger first; repeats of a detector cost nothing more.
    assert [(p.detector, p.count, p.severity) for p in s.penalties] == [("retry_loop", 2,
                                                                          "high")]
    assert [(f.name, f.shown) for f in s.features] == [("actions", "30")]
    total = s.base - sum(p.points for p in s.penalties) + sum(f.points for f in s.features)
    assert abs(total - s.value) < 0.1
    assert sum(points for points, _ in breakdown(s)) == pytest.approx(s.value, abs=0.1)
    # A run at the reference with no finding scores the reference chance.
    plain = _result()
    plain.features = {"actions": round(math.log1p(10), 4)}
    assert score(plain, settings).value == 50.0


def test_unweighted_detectors_cost_their_severity_points_and_the_outcome_is_stated(
        tmp_path: Path) -> None:
    settings = Settings(calibration=_model(tmp_path), outcome_points={"failed": 10.0})
    result = _result(_f("plugin_check", "high"), _f("plugin_check", "high"),
                     _f("other", "low"), _f("noise", "info"), outcome={"passed": False})
    s = score(result, settings)
    # 15 + 7.5 for the repeated detector, 3, nothing for info, 10 for the failed outcome
    assert s.value == 50 - 15 - 7.5 - 3 - 10
    assert s.reward == round(s.value / 100, 4)
    assert s.outcome == "failed" and s.outcome_points == 10
    assert [(p.detector, p.count, p.points) for p in s.penalties] == [
        ("plugin_check", 2, 22.5), ("other", 1, 3.0)]
    lines = breakdown(s)
    assert lines[0] == (50.0, "a typical run (the score model's reference)")
    assert lines[-1] == (-10.0, "outcome: failed")
    assert score(result).outcome_points == 25  # the default for a failed outcome


def test_weights_are_configurable_and_the_score_is_clamped(tmp_path: Path) -> None:
    many = _result(*[_f(f"d{i}", "critical") for i in range(10)])
    settings = Settings(calibration=_model(tmp_path))
    assert score(many, settings).value == 0.0
    lenient = Settings(calibration=settings.calibration, weights={"critical": 1.0},
                       repeat_decay=1.0)
    assert score(many, lenient).value == 40.0
    assert score(_result(status="aborted")).outcome == "aborted"


def test_a_verdict_decides_the_outcome_before_the_stop_status() -> None:
    limited = _result(status="timeout", outcome={"passed": True})
    assert score(limited).outcome == "passed" and score(limited).outcome_points == 0
    assert score(_result(status="timeout")).outcome == "error"


def test_a_bad_score_model_file_is_one_line_naming_it(tmp_path: Path) -> None:
    from pytest_tracebench.score.calibration.model import ModelError, load_model

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ModelError, match=r"bad\.json: not a score model: invalid JSON"):
        load_model(bad)
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"version": 99, "intercept": 0}))
    with pytest.raises(ModelError, match="version 99 is newer"):
        load_model(newer)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"version": 1, "intercept": "high"}))
    with pytest.raises(ModelError, match="field 'intercept'"):
        load_model(wrong)


def test_the_built_in_model_never_rewards_a_finding() -> None:
    from pytest_tracebench.score.calibration.model import load_model

    model = load_model()
    detectors = [t for t in model.terms if t.kind == "detector"]
    assert detectors and all(t.weight <= 0 for t in detectors)
    assert any(t.weight < 0 for t in detectors)
    assert 0 < model.intercept + 10 and model.fitted_on["runs"] == 752


def test_reward_api_on_a_trace_and_plugin_shaping(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    good = make(lambda rec: (fail(rec), edit(rec), green(rec)))
    bad = make(lambda rec: (edit(rec), fail(rec)))
    assert 0.0 <= reward(bad) < reward(good) <= 1.0
    (tmp_path / "sparse_reward.py").write_text(
        "from pytest_tracebench import hookimpl\n"
        "@hookimpl\n"
        "def tracebench_reward(result, score):\n"
        "    return 1.0 if not result.findings else 0.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    pipeline = Pipeline.from_settings(Settings(plugins=["sparse_reward"]))
    assert reward(bad, pipeline=pipeline) == 0.0
    assert reward(good, pipeline=pipeline) == 1.0


def test_a_plugin_can_replace_the_score(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    (tmp_path / "flat_score.py").write_text(
        "from pytest_tracebench import hookimpl, Score\n"
        "@hookimpl\n"
        "def tracebench_score(result, settings):\n"
        "    return Score(value=42, reward=0.42)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = get_plugin_manager(["flat_score"])
    assert score_result(_result(_f("x")), Settings(), pm).value == 42


def test_bootstrap_ci_is_deterministic_and_brackets_the_mean() -> None:
    values = [10.0, 50.0, 60.0, 70.0, 90.0, 100.0]
    low, high = bootstrap_ci(values)  # type: ignore[misc]
    assert low < sum(values) / len(values) < high
    assert bootstrap_ci(values) == (low, high)
    assert bootstrap_ci([5.0]) is None


def test_large_sample_interval_agrees_with_the_bootstrap() -> None:
    import random

    from pytest_tracebench.score import summary as metrics
    rng = random.Random(3)
    values = [rng.choice([0.0, 40.0, 100.0]) for _ in range(metrics.BOOTSTRAP_MAX_N + 1)]
    normal = bootstrap_ci(values)
    boot = bootstrap_ci(values[:metrics.BOOTSTRAP_MAX_N])
    assert normal is not None and boot is not None
    mean = sum(values) / len(values)
    assert normal[0] < mean < normal[1]
    assert abs((normal[1] - normal[0]) - (boot[1] - boot[0])) < 0.15 * (boot[1] - boot[0])


def test_signatures_mask_what_varies() -> None:
    a = "Tests failed: 2 failing (tests/test_a.py::test_x, tests/test_b.py::test_y)."
    b = "Tests failed: 7 failing (pkg/tests/test_c.py::test_z[1], t.py::w)."
    assert message_template(a) == message_template(b)
    assert message_template('The agent ran `ls -la /tmp/x` 4 times at 2026-01-02T03:04:05Z') \
        == message_template('The agent ran `cat f` 9 times at 2025-11-12T13:14:15Z')
    assert message_template("step 3 failed") != message_template("step 3 timed out")


def test_signatures_keep_the_message_s_brackets_and_merge_test_lists() -> None:
    """A test id stops before the ")" or "." around it; one failing test or two is one failure."""
    two = "Fix failed: 2 failing (tests/a.py::t_a, tests/b.py::TestB::t_b[x-(1,2)]) (fixed later)."
    one = "Fix failed: 1 failing (tests/a.py::t_a) (fixed later)."
    template = message_template(two)
    assert template == "Fix failed: <n> failing (<test>...) (fixed later)."
    assert message_template(one) == template
    assert template.count("(") == template.count(")")
    assert message_template("The run ends (step 3): t.py::t_x.") == \
        "The run ends (step <n>): <test>..."


def test_clusters_group_findings_across_traces() -> None:
    results = [
        TraceResult(trace_id=f"t{i}", task_id=f"task{i}", agent="a", status="completed",
                    step_count=3, findings=[Finding(
                        detector="retry_loop", message=f"The agent ran `cmd{i}` {i + 4} times",
                        steps=[i], step_kind="command")])
        for i in range(3)
    ]
    (only,) = cluster(results)
    assert only.count == 3 and only.traces == ["t0", "t1", "t2"]
    assert len(only.examples) == 3 and only.detector == "retry_loop"


def test_terminal_report_neutralises_escape_sequences() -> None:
    hostile = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\r"
    result = _result(_f("retry_loop", message=f"ran `{hostile}`"))
    result.score = score(result)
    text = "\n".join(render_terminal(build_report([result], Settings())))
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "\\x1b]0;pwned\\x07" in text


def _run(trace_id: str, agent: str, outcome: dict | None = None, status: str = "completed"
         ) -> TraceResult:
    result = TraceResult(trace_id=trace_id, task_id=trace_id, agent=agent, status=status,
                         step_count=3, outcome=outcome or {})
    result.score = score(result)
    return result


def test_the_pass_rate_says_how_many_traces_it_is_over() -> None:
    """Imported trajectories seldom carry a verdict: one aborted run among many without one
    is a pass rate of 0% of 1, not of the suite."""
    results = [_run("t0", "a", status="aborted"), _run("t1", "a"), _run("t2", "b"),
               _run("t3", "b", {"passed": True})]
    report = build_report(results, Settings())
    assert (report.summary.pass_rate, report.summary.judged) == (0.5, 2)
    text = "\n".join(render_terminal(report))
    assert "4 trace(s)" in text and "pass rate 50% of 2 judged" in text
    agents = {line.split()[0]: line for line in text.splitlines() if line[:2] in ("a ", "b ")}
    assert "pass rate 0% of 1 judged" in agents["a"]
    assert "pass rate 100% of 1 judged" in agents["b"]

    every = [_run("t0", "a", {"passed": True}), _run("t1", "a", {"passed": False})]
    text = "\n".join(render_terminal(build_report(every, Settings())))
    assert "pass rate 50%," in text and "judged" not in text
    none = [_run("t0", "a"), _run("t1", "a")]
    text = "\n".join(render_terminal(build_report(none, Settings())))
    assert "pass rate" not in text


def test_the_one_trace_report_prints_the_score_its_breakdown_adds_up_to(tmp_path: Path
                                                                         ) -> None:
    settings = Settings(calibration=_model(tmp_path))
    result = _run("t0", "a")
    result.findings = [_f("plugin_check", "low"), _f("plugin_check", "low")]
    result.score = score(result, settings)
    assert result.score.value == 45.5  # 50 - 3 - 1.5
    text = "\n".join(render_terminal(build_report([result], settings), verbose=True))
    assert "Score: 45.5/100" in text and "  -4.5 plugin_check (2 low)" in text
    assert "  50 a typical run (the score model's reference)" in text
