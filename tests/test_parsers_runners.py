"""Test runs as agents run them: which commands are test runs, and what their output says.

A command or output under a comment naming a corpus file (paths under ``../shared/data/``) is a
short excerpt of that real trajectory: the lines that matter (the command, the summary, the
failing-id lines), unchanged. Runners the corpus does not hold (go, cargo, mocha, Maven, Gradle,
ctest, RSpec, PHPUnit, nox, tox 3, failing Jest) take their output's shape from the runner's
documentation or public logs, as each comment says. The few lines without a source are the
wrapper forms the bug report lists.
"""

from __future__ import annotations

import pytest

from pytest_tracebench.parsers import classify_command, parse_test_output
from pytest_tracebench.parsers.test_output import normalise_output

from ._corpus import NATIVE_SHARED

# -- which commands are test runs -----------------------------------------------------------------


@pytest.mark.parametrize(("command", "runner"), [
    # real/mini-swe-agent/django__django-13820/django__django-13820.traj.json
    ("./tests/runtests.py migrations.test_loader", "django"),
    # real/mini-swe-agent/django__django-11179/django__django-11179.traj.json
    ("python3 tests/runtests.py delete", "django"),
    # dev/minisweagent-2.2.7-deepseekchat-swebench-lite/django__django-15061/...traj.json
    ("cd /testbed && python -m django test forms_tests.widget_tests.test_multiwidget -v 2 "
     "--settings=test_sqlite 2>&1 | tail -50", "django"),
    # Django's documentation: "./manage.py test" runs a project's tests (not in the corpus)
    ("python manage.py test polls", "django"),
    # real/mini-swe-agent/sympy__sympy-17630/sympy__sympy-17630.traj.json
    ("bin/test sympy/matrices/expressions/tests/test_blockmatrix.py", "sympy"),
    # dev/vorflux-opus46-gpt55-swebv/sympy__sympy-20428/sympy__sympy-20428.json
    ("cd /code/sympy/sympy && python -m sympy.testing.runtests "
     "sympy/polys/tests/test_densearith.py 2>&1", "sympy"),
    # dev/vorflux-opus46-gpt55-swebv/sympy__sympy-15875/sympy__sympy-15875.json (timeout)
    ("cd /code/sympy/sympy && PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' "
     "timeout 300 bin/test -C --verbose sympy/matrices/tests/test_matrices.py 2>&1 | tail -15",
     "sympy"),
    # dev/vorflux-opus46-gpt55-swebv/sympy__sympy-18698/sympy__sympy-18698.json (bash -c)
    ('cd /code/sympy/sympy && timeout 500 bash -c "PYTHONWARNINGS=\'ignore::UserWarning,'
     'ignore::SyntaxWarning\' bin/test -C --verbose sympy/polys/ 2>&1" > '
     '/var/tmp/polys_test_output.txt 2>&1; echo "EXIT: $?"', "sympy"),
    # dev/vorflux-opus46-gpt55-swebv/astropy__astropy-13398/astropy__astropy-13398.json
    ("cd /code/astropy/astropy && python -W 'ignore::DeprecationWarning' -m pytest "
     "astropy/coordinates/tests/test_intermediate_transformations.py::test_straight_overhead"
     " -x -rA", "pytest"),
    # native/atif/evolving-skills__UPWAM6C_trajectory.json (a pipe to tail)
    ("python3 -m pytest tests/ -v 2>&1 | tail -40", "pytest"),
    # dev/live-swe-agent-gpt5mini-swebv-subset/django__django-11815/...traj.json
    ("python -m unittest tests.migrations.test_writer.WriterTests.test_serialize_enums -q",
     "unittest"),
    # native/claude_code/agentcmd__full-session-four.jsonl (pnpm running Vitest)
    ("cd apps/web && pnpm test NavUser.test.tsx", "npm"),
    # dev/vorflux-opus46-gpt55-swebv/django__django-14792/django__django-14792.json (jest)
    ("cd /code/piyushhhxyz/piyushhhxyz && npm test 2>&1", "npm"),
    # dev/sweagent-0.x-swebench-java-5models/deepseek-coder-v2__fasterxml__jackson-core-1309
    ("mvn test -Dtest=NumberInputTest#looksLikeValidNumber", "maven"),
    # dev/sweagent-0.x-swebench-java-5models/gpt-4o-2024-05-13__fasterxml__jackson-databind-1923
    ("./gradlew test --tests com.fasterxml.jackson.databind.ReproduceTest", "gradle"),
    # native/atif/harbor__atif2otel_trajectory_pass.json
    ("make -C maas-controller test 2>&1 | tail -40", "make"),
    ("cd maas-controller && go test ./pkg/controller/maas/ -run TestGetEndpointFromLLMISvc -v"
     " 2>&1", "go"),
    # dev/vorflux-opus46-gpt55-swebv/sphinx-doc__sphinx-8475/sphinx-doc__sphinx-8475.json
    ('export PATH="$HOME/.local/bin:$PATH" && cd /code/sphinx-doc/sphinx && tox --current-env '
     "-epy39 -v -- tests/test_build_linkcheck.py 2>&1 | tail -60", "tox"),
    # dev/sweagent-0.x-swebench-java-5models/gpt-4o-2024-05-13__fasterxml__jackson-core-1142
    ("chmod +x run_tests.sh && ./run_tests.sh", "script"),
    # native/claude_code/evolving-skills__cb3be87f-c6ae-4559-a52a-b6e67cfef677.jsonl
    ("python run_tests.py 2>&1 | tail -40", "script"),
    # wrappers and shells, as the bug report lists them
    ("bash -lc 'pytest -q'", "pytest"),
    ('sh -c "cd /repo && python -m pytest tests/"', "pytest"),
    ("timeout 60 pytest", "pytest"),
    ("env X=1 python -m pytest", "pytest"),
    ("uv run --with pytest-xdist pytest -n 2", "pytest"),
    ("conda run -n testbed python -m pytest tests", "pytest"),
    ("if pytest -q; then echo ok; fi", "pytest"),
    ("npx vitest run src/a.test.ts", "vitest"),
    ("bundle exec rspec spec/models", "rspec"),
    ("vendor/bin/phpunit --filter FooTest", "phpunit"),
    ("cargo test --lib", "cargo"),
    ("ctest --output-on-failure", "ctest"),
    ("nox -s tests", "nox"),
])
def test_test_runs_are_recognised_whatever_wraps_them(command: str, runner: str) -> None:
    info = classify_command(command)
    assert (info.kind, info.runner) == ("test", runner)


@pytest.mark.parametrize(("command", "kind"), [
    # native/atif/evolving-skills__pdfminer__icWVexc_trajectory.json (and its Claude Code log)
    ("pip install pytest -q 2>&1 | tail -3", "read"),
    # native/atif/evolving-skills__UPWAM6C_trajectory.json
    ("pip install ubelt pytest 2>&1 | tail -3", "read"),
    # dev/vorflux-opus46-gpt55-swebv/scikit-learn__scikit-learn-25747/...json
    ("pip3 install --break-system-packages -q pytest 2>&1 | tail -2\n"
     "python3 -m pytest --version", "read"),
    # dev/vorflux-opus46-gpt55-swebv/astropy__astropy-7606/astropy__astropy-7606.json
    ('export PATH="$HOME/miniconda3/bin:$PATH" && conda create -y -n astropy python=3.9 numpy '
     "cython pytest 2>&1 | tail -10", "read"),
    # dev/vorflux-opus46-gpt55-swebv/sphinx-doc__sphinx-8593/...json: lists, runs nothing
    ("cd /code/sphinx-doc/sphinx && python -m pytest tests/test_ext_autodoc_private_members.py "
     "--co -q 2>&1 | head -20", "read"),
    # dev/vorflux-opus46-gpt55-swebv/pylint-dev__pylint-4604/...json
    ('cd /code/pylint-dev/pylint && python -m pytest tests/ -k "unused_typing" -rA '
     "--collect-only 2>&1 | head -20", "read"),
    # dev/vorflux-opus46-gpt55-swebv/sphinx-doc__sphinx-10435/...json: edits tox.ini, installs
    ("cd /code/sphinx-doc/sphinx && sed -i 's/pytest/pytest -rA/' tox.ini && pip install "
     "tox==4.16.0 tox-current-env==0.0.11 Jinja2==3.0.3 2>&1 | tail -5", "edit"),
    # dev/sweagent-0.x-gpt4-0125-swebench-lite/pytest-dev__pytest-5495/...traj: the text of a
    # SWE-agent edit is file content, not commands
    ('edit 1:1\nimport pytest\n\ndef test_b_42():\n    assert b"" == b"42"\n\n'
     'def test_b_1():\n    assert b"" == b"1"\nend_of_edit', "command"),
    # native/codex_cli/agentcmd__rollout-2025-09-25T09-49-46-...jsonl (argv joined unquoted)
    ("bash -lc sed -n '1,200p' packages/services/src/createService.integration.test.ts", "read"),
    ("pytest --version", "command"),
    ("pytest --help", "command"),
    ("pip show pytest", "command"),
    ("which pytest", "read"),
    ("ctest -N", "command"),
    ("tox -l", "command"),
    ("mvn install -DskipTests", "command"),
    ("gradle build -x test", "command"),
    ('python -c "print(1 > 2)"', "command"),
])
def test_commands_that_run_no_tests_are_not_test_runs(command: str, kind: str) -> None:
    assert classify_command(command).kind == kind


def test_a_quoted_comparison_is_no_redirection_but_a_real_one_is() -> None:
    assert classify_command('python -c "print(1 > 2)"').edits == []
    info = classify_command("pytest -q > out.log 2>&1")
    assert info.kind == "test" and [(e.path, e.op) for e in info.edits] == [("out.log",
                                                                            "create")]


# -- pytest ---------------------------------------------------------------------------------------

# dev/vorflux-opus46-gpt55-swebv/psf__requests-5414/psf__requests-5414.json
REQUESTS = """\
=========================== short test summary info ============================
FAILED tests/test_lowlevel.py::test_use_proxy_from_environment[http_proxy-http]
FAILED tests/test_lowlevel.py::test_use_proxy_from_environment[https_proxy-https]
FAILED tests/test_requests.py::TestRequests::test_https_warnings - TypeError:...
FAILED tests/test_requests.py::TestPreparingURLs::test_preparing_url[http://[1200:0000:ab00:1234:0000:2552:7777:1313]:12345/-http://[1200:0000:ab00:1234:0000:2552:7777:1313]:12345/0]
FAILED tests/test_requests.py::TestPreparingURLs::test_redirecting_to_bad_url[http://localhost:-1-InvalidURL]
============================= 10 failed in 41.34s ==============================
"""


def test_pytest_failing_ids_are_the_node_ids_with_their_parameters() -> None:
    result = parse_test_output(REQUESTS)
    assert result is not None and (result.failed, result.passed) == (10, 0)
    assert result.failing == [
        "tests/test_lowlevel.py::test_use_proxy_from_environment[http_proxy-http]",
        "tests/test_lowlevel.py::test_use_proxy_from_environment[https_proxy-https]",
        "tests/test_requests.py::TestRequests::test_https_warnings",
        "tests/test_requests.py::TestPreparingURLs::test_preparing_url[http://[1200:0000:ab00:"
        "1234:0000:2552:7777:1313]:12345/-http://[1200:0000:ab00:1234:0000:2552:7777:1313]:"
        "12345/0]",
        "tests/test_requests.py::TestPreparingURLs::test_redirecting_to_bad_url[http://"
        "localhost:-1-InvalidURL]",
    ]


def test_pytest_before_6_said_seconds() -> None:
    # dev/sweagent-0.x-gpt4-0125-swebench-lite/pytest-dev__pytest-5495/...traj
    text = """\
=========================== short test summary info ============================
FAILED test_byte_string_assertion.py::test_b_42 - AssertionError: assert b'' ...
FAILED test_byte_string_assertion.py::test_b_1 - AssertionError: assert b'' =...
=========================== 2 failed in 0.02 seconds ===========================
"""
    result = parse_test_output(text)
    assert result is not None and (result.failed, result.ok) == (2, False)
    assert result.failing == ["test_byte_string_assertion.py::test_b_42",
                              "test_byte_string_assertion.py::test_b_1"]


def test_pytest_collection_error() -> None:
    # dev/sweagent-0.x-gpt4-0125-swebench-lite/pytest-dev__pytest-11143/...traj
    text = """\
collected 0 items / 1 error

==================================== ERRORS ====================================
__________________ ERROR collecting test_bug_reproduction.py ___________________
E   TypeError: argument of type 'int' is not iterable
=========================== short test summary info ============================
ERROR test_bug_reproduction.py - TypeError: argument of type 'int' is not ite...
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
=============================== 1 error in 0.20s ===============================
"""
    result = parse_test_output(text)
    assert result is not None and (result.errors, result.ok) == (1, False)
    assert result.failing == ["test_bug_reproduction.py"]
    cut = parse_test_output(text.rsplit("\n", 2)[0])  # the summary line cut off
    assert cut is not None and cut.errors == 1


def test_pytest_no_tests_ran() -> None:
    # dev/minisweagent-2.2.7-deepseekchat-swebench-lite/django__django-14672/...traj.json
    text = ("collecting ... ERROR: file or directory not found: django/tests/model_fields/"
            "test_manytomanyfield.py::ManyToManyFieldTests::test_value_from_object\n\n"
            "collected 0 items\n\n"
            "============================ no tests ran in 0.00s =============================\n")
    result = parse_test_output(text)
    assert result is not None and result.total == 0 and result.failing == []


def test_pytest_qq_is_counted_from_its_progress_lines() -> None:
    # dev/live-swe-agent-gpt5mini-swebv-subset/astropy__astropy-13033/...traj.json, run as
    # "pytest -q astropy/timeseries/tests -q": -qq prints no summary line
    text = """\
Internet access disabled
....F................................................................... [ 83%]
.....s...ss...                                                           [100%]
=========================== short test summary info ============================
FAILED astropy/timeseries/tests/test_binned.py::test_initialization_time_bin_size
"""
    result = parse_test_output(text)
    assert result is not None
    assert (result.passed, result.failed, result.skipped) == (82, 1, 3)
    assert result.failing == ["astropy/timeseries/tests/test_binned.py::"
                              "test_initialization_time_bin_size"]
    assert parse_test_output(text.replace("[100%]", "[ 95%]")) is None  # cut off: unknown


def test_pytest_inner_sessions_of_pytests_own_tests_are_not_counted() -> None:
    # dev/vorflux-opus46-gpt55-swebv/pytest-dev__pytest-10356/...json, "| tail -5": the inner
    # pytester session's "2 failed" is part of the outer run's report
    text = """\
============================== 2 failed in 0.09s ===============================
=========================== short test summary info ============================
FAILED testing/test_unittest.py::test_simple_unittest - AssertionError: asser...
!!!!!!!!!!!!!!!!!!!!!!!!!! stopping after 1 failures !!!!!!!!!!!!!!!!!!!!!!!!!!!
============================== 1 failed in 0.16s ===============================
"""
    result = parse_test_output(text)
    assert result is not None and result.failed == 1


def test_two_sessions_in_one_command_are_summed() -> None:
    text = ("============================= test session starts ==============================\n"
            "tests/test_a.py ..                                                       [100%]\n"
            "============================== 2 passed in 0.01s ===============================\n"
            "============================= test session starts ==============================\n"
            "tests/test_b.py .                                                        [100%]\n"
            "============================== 1 passed in 0.01s ===============================\n")
    result = parse_test_output(text)
    assert result is not None and result.passed == 3


# native/atif/evolving-skills__pdfminer__icWVexc_trajectory.json: Harbor's observation holds
# the output, then "[stdout]" and the same output again, then a metadata line
HARBOR = """\
tests/test_utils.py::TestPageLabels::test_format_page_label_decimal PASSED [ 16%]
tests/test_utils.py::TestPageLabels::test_format_page_label_unknown_style PASSED [100%]

============================== 6 passed in 0.35s ===============================

[stdout]
tests/test_utils.py::TestPageLabels::test_format_page_label_decimal PASSED [ 16%]
tests/test_utils.py::TestPageLabels::test_format_page_label_unknown_style PASSED [100%]

============================== 6 passed in 0.35s ===============================
[metadata] {"noOutputExpected": false}"""


def test_an_output_a_log_holds_twice_counts_once() -> None:
    result = parse_test_output(HARBOR)
    assert result is not None and (result.passed, result.failed) == (6, 0)
    truncated_first = HARBOR.replace("[ 16%]\ntests/test_utils.py::TestPageLabels::"
                                     "test_format_page_label_unknown_style PASSED [100%]\n\n"
                                     "============================== 6 passed in 0.35s "
                                     "===============================\n\n[stdout]", "\n[stdout]",
                                     1)
    result = parse_test_output(truncated_first)
    assert result is not None and result.passed == 6


@pytest.mark.skipif(not (NATIVE_SHARED / "atif").is_dir(), reason="shared corpus not found")
def test_the_atif_and_claude_code_logs_of_one_run_give_the_same_counts() -> None:
    from pytest_tracebench.importers import import_path

    (atif,) = import_path(NATIVE_SHARED / "atif" /
                          "evolving-skills__pdfminer__icWVexc_trajectory.json")
    (session,) = import_path(NATIVE_SHARED / "claude_code" / "evolving-skills__pdfminer__"
                             "ca4291e5-5178-4fdb-972b-f6b4d6c26a65.jsonl")

    def counts(trace: object) -> list[tuple[object, object]]:
        return [(s.output["passed"], s.output["failed"]) for s in trace.steps  # type: ignore
                if s.kind == "test"]

    assert counts(atif) == counts(session) == [(None, None), (6, 0), (20, 0), (124, 0)]
    installs = [s for s in atif.steps if "pip install pytest" in str(s.input)]
    assert installs and all(s.kind != "test" for s in installs)


# -- unittest and Django's runner -----------------------------------------------------------------


def test_django_runtests_before_python_3_11() -> None:
    # real/mini-swe-agent/django__django-12262/django__django-12262.traj.json
    text = """\
======================================================================
FAIL: test_permissions_error (template_tests.test_loaders.FileSystemLoaderTests)
----------------------------------------------------------------------
AssertionError: PermissionError not raised

----------------------------------------------------------------------
Ran 1387 tests in 4.006s

FAILED (failures=1, skipped=1)
"""
    result = parse_test_output(text)
    assert result is not None and result.runner == "unittest"
    assert (result.passed, result.failed, result.skipped) == (1385, 1, 1)
    assert result.failing == ["template_tests.test_loaders.FileSystemLoaderTests."
                              "test_permissions_error"]


def test_django_runtests_since_python_3_11_gives_the_same_ids() -> None:
    # dev/vorflux-opus46-gpt55-swebv/django__django-11141/django__django-11141.json
    text = """\
test_load_empty_dir (migrations.test_loader.LoaderTests.test_load_empty_dir) ... FAIL

======================================================================
FAIL: test_load_empty_dir (migrations.test_loader.LoaderTests.test_load_empty_dir)
----------------------------------------------------------------------
Ran 1 test in 0.005s

FAILED (failures=1)
Destroying test database for alias 'default' ('file:memorydb_default?mode=memory&cache=shared')...
"""
    result = parse_test_output(text)
    assert result is not None and (result.passed, result.failed) == (0, 1)
    assert result.failing == ["migrations.test_loader.LoaderTests.test_load_empty_dir"]


def test_a_label_that_failed_to_import_is_its_label() -> None:
    # dev/vorflux-opus46-gpt55-swebv/django__django-15128/django__django-15128.json
    text = """\
======================================================================
ERROR: queries (unittest.loader._FailedTest.queries)
----------------------------------------------------------------------
ImportError: Failed to import test module: queries

----------------------------------------------------------------------
Ran 1 test in 0.000s

FAILED (errors=1)
"""
    result = parse_test_output(text)
    assert result is not None and (result.errors, result.failing) == (1, ["queries"])


def test_ok_with_skips() -> None:
    # real/mini-swe-agent/django__django-11179/django__django-11179.traj.json
    text = """\
............................s............
----------------------------------------------------------------------
Ran 41 tests in 0.622s

OK (skipped=1)
Destroying test database for alias 'default'...
"""
    result = parse_test_output(text)
    assert result is not None and (result.passed, result.skipped, result.ok) == (40, 1, True)


def test_a_verdict_whose_ran_line_a_grep_dropped_has_no_counts() -> None:
    # dev/vorflux-opus46-gpt55-swebv/django__django-11141/django__django-11141.json, piped
    # through grep -E '(FAIL|ERROR)'
    text = """\
test_load_empty_dir (migrations.test_loader.LoaderTests.test_load_empty_dir) ... FAIL
FAIL: test_load_empty_dir (migrations.test_loader.LoaderTests.test_load_empty_dir)
FAILED (failures=1)
"""
    result = parse_test_output(text)
    assert result is not None and not result.ok and not result.counted
    assert result.as_output()["passed"] is None
    assert result.failing == ["migrations.test_loader.LoaderTests.test_load_empty_dir"]


# -- sympy ----------------------------------------------------------------------------------------


def test_sympy_failure_headers_and_summary() -> None:
    # dev/vorflux-opus46-gpt55-swebv/sympy__sympy-18698/sympy__sympy-18698.json
    text = """\
________________________________________________________________________________
____________ sympy/polys/tests/test_polytools.py:test_factor_terms _____________
AssertionError

== tests finished: 147 passed, 1 failed, 1 expected to fail, in 9.57 seconds ===
DO *NOT* COMMIT!
"""
    result = parse_test_output(text)
    assert result is not None and (result.passed, result.failed, result.skipped) == (147, 1, 1)
    assert result.failing == ["sympy/polys/tests/test_polytools.py:test_factor_terms"]


def test_sympy_summary_wrapped_onto_two_lines() -> None:
    # dev/vorflux-opus46-gpt55-swebv/sympy__sympy-20428/sympy__sympy-20428.json
    text = """\
________________________________ xpassed tests _________________________________
sympy/polys/tests/test_partfrac.py: test_apart_extension_xfail

 tests finished: 311 passed, 1 skipped, 1 expected to fail, 
1 expected to fail but passed, in 19.44 seconds 
"""  # noqa: W291 - sympy's own trailing spaces
    result = parse_test_output(text)
    assert result is not None and (result.passed, result.skipped, result.ok) == (312, 2, True)


# -- JavaScript -----------------------------------------------------------------------------------


# native/claude_code/agentcmd__full-session-four.jsonl ("cd apps/web && pnpm test ..."), with
# Vitest's colours and pnpm's thin spaces as printed
VITEST = (
    "\x1b[41m\x1b[1m FAIL \x1b[22m\x1b[49m \x1b[30m\x1b[42m client \x1b[49m\x1b[39m "
    "src/client/components/NavUser.test.tsx\x1b[2m > \x1b[22mgetInitials\x1b[2m > \x1b[22m"
    "should return ?? for empty string\n"
    "\x1b[2m Test Files \x1b[22m \x1b[1m\x1b[31m1 failed\x1b[39m\x1b[22m\x1b[90m (1)\x1b[39m\n"
    "\x1b[2m      Tests \x1b[22m \x1b[1m\x1b[31m1 failed\x1b[39m\x1b[22m\x1b[2m | \x1b[22m"
    "\x1b[1m\x1b[32m6 passed\x1b[39m\x1b[22m\x1b[90m (7)\x1b[39m\n"
    "\x1b[2m   Start at \x1b[22m 04:48:47\n"
    "\u2009ELIFECYCLE\u2009 Test failed. See above for more details.\n")


def test_vitest_with_and_without_colours() -> None:
    for text in (VITEST, normalise_output(VITEST)):
        result = parse_test_output(text)
        assert result is not None and result.runner == "vitest"
        assert (result.passed, result.failed, result.ok) == (6, 1, False)
        assert result.failing == ["src/client/components/NavUser.test.tsx > getInitials > "
                                  "should return ?? for empty string"]
    # the same file's passing run
    passing = ("\x1b[2m Test Files \x1b[22m \x1b[1m\x1b[32m1 passed\x1b[39m\x1b[22m\x1b[90m "
               "(1)\x1b[39m\n\x1b[2m      Tests \x1b[22m \x1b[1m\x1b[32m7 passed\x1b[39m\x1b[22m"
               "\x1b[90m (7)\x1b[39m\n")
    result = parse_test_output(passing)
    assert result is not None and (result.passed, result.ok) == (7, True)


def test_jest_through_npm_test() -> None:
    # dev/vorflux-opus46-gpt55-swebv/django__django-14792/django__django-14792.json
    text = """\
> piyushhhxyz-server@1.0.0 test
> jest --verbose

PASS tests/healthz.test.js
Test Suites: 1 passed, 1 total
Tests:       3 passed, 3 total
Snapshots:   0 total
"""
    result = parse_test_output(text)
    assert result is not None and (result.runner, result.passed, result.ok) == ("jest", 3, True)


def test_jest_failure() -> None:
    # shape from Jest's documentation (the corpus has only passing Jest runs)
    text = ("  \u25cf client \u203a retries\n\n    expect(received).toBe(expected)\n\n"
            "Test Suites: 1 failed, 1 total\nTests:       1 failed, 5 passed, 6 total\n")
    result = parse_test_output(text)
    assert result is not None and (result.passed, result.failed) == (5, 1)
    assert result.failing == ["client \u203a retries"]


def test_mocha() -> None:
    # shape from mocha's spec reporter (mochajs.org, reporters/spec.js epilogue)
    text = """\
  Array
    #indexOf()
      ✓ should return -1 when the value is not present
      1) should return the index


  1 passing (9ms)
  1 pending
  1 failing

  1) Array
       #indexOf()
         should return the index:
     AssertionError: expected -1 to equal 0
"""
    result = parse_test_output(text)
    assert result is not None and result.runner == "mocha"
    assert (result.passed, result.failed, result.skipped) == (1, 1, 1)
    assert result.failing == ["Array #indexOf() should return the index"]


# -- JVM ------------------------------------------------------------------------------------------


def test_maven_surefire_totals_not_the_per_class_lines() -> None:
    # shape from Maven Surefire's console output as its docs and public build logs show it
    # (e.g. https://pastebin.com/B89U4jme); the corpus's Maven runs never got to run (no JDK)
    text = """\
[INFO] Running com.example.AppTest
[ERROR] Tests run: 2, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.05 s <<< FAILURE! \
- in com.example.AppTest
[ERROR] testApp(com.example.AppTest)  Time elapsed: 0.01 s  <<< FAILURE!
[INFO] Running com.example.OtherTest
[INFO] Tests run: 3, Failures: 0, Errors: 0, Skipped: 1, Time elapsed: 0.02 s \
- in com.example.OtherTest
[INFO]
[INFO] Results:
[INFO]
[ERROR] Failures:
[ERROR]   AppTest.testApp:22 expected:<1> but was:<2>
[INFO]
[ERROR] Tests run: 5, Failures: 1, Errors: 0, Skipped: 1
[INFO]
[INFO] BUILD FAILURE
"""
    result = parse_test_output(text)
    assert result is not None and result.runner == "maven"
    assert (result.passed, result.failed, result.skipped) == (3, 1, 1)
    assert result.failing == ["com.example.AppTest.testApp"]
    surefire3 = ("[ERROR] com.example.AppTest.testApp -- Time elapsed: 0.005 s <<< FAILURE!\n"
                 "[ERROR] Tests run: 1, Failures: 1, Errors: 0, Skipped: 0\n")
    result = parse_test_output(surefire3)
    assert result is not None and result.failing == ["com.example.AppTest.testApp"]


def test_maven_build_failure_without_tests_is_a_failed_run_without_counts() -> None:
    # shape from Maven's console output (a compilation error before Surefire runs)
    text = "[ERROR] COMPILATION ERROR :\n[INFO] BUILD FAILURE\n[INFO] Total time:  1.2 s\n"
    result = parse_test_output(text)
    assert result is not None and (result.runner, result.ok, result.counted) == (
        "maven", False, False)


def test_gradle() -> None:
    # shape from public Gradle logs (https://gist.github.com/lwasyl/19fa336b55c09733e4051312eac1b9ad,
    # https://pastebin.com/f8aWgv6s)
    text = """\
> Task :app:test FAILED

com.example.app.tests.SomeTestClass > aPassingTest1 FAILED
    java.lang.IllegalStateException at SomeTestClass.kt:9

14 tests completed, 1 failed

FAILURE: Build failed with an exception.

BUILD FAILED in 1s
"""
    result = parse_test_output(text)
    assert result is not None and result.runner == "gradle"
    assert (result.passed, result.failed, result.ok) == (13, 1, False)
    assert result.failing == ["com.example.app.tests.SomeTestClass.aPassingTest1"]
    passing = parse_test_output("> Task :test\n\nBUILD SUCCESSFUL in 3s\n4 actionable tasks\n")
    assert passing is not None and (passing.ok, passing.counted) == (True, False)


# -- go, cargo, ctest -----------------------------------------------------------------------------


def test_go_test_verbose_and_package_lines() -> None:
    # shape from go's own test scripts (src/cmd/go/testdata/script/test_status.txt) and
    # "go help testflag"
    text = """\
=== RUN   TestNothingJustFail
--- FAIL: TestNothingJustFail (0.00s)
=== RUN   TestOK
=== RUN   TestOK/case_1
    --- PASS: TestOK/case_1 (0.00s)
--- PASS: TestOK (0.00s)
FAIL
FAIL\tx\t0.002s
ok  \ty\t0.003s
"""
    result = parse_test_output(text)
    assert result is not None and result.runner == "go"
    assert (result.passed, result.failed, result.counted) == (2, 1, True)
    assert result.failing == ["TestNothingJustFail"]
    quiet = parse_test_output("--- FAIL: TestRetry (0.00s)\nFAIL\nFAIL\tx\t0.01s\n")
    assert quiet is not None and (quiet.ok, quiet.counted, quiet.failing) == (
        False, False, ["TestRetry"])
    build = parse_test_output("FAIL\texample.com/x [build failed]\n")
    assert build is not None and not build.ok


def test_cargo_test_sums_its_binaries() -> None:
    # shape from The Rust Programming Language, ch. 11 ("Running tests")
    text = """\
running 2 tests
test tests::exploration ... ok
test tests::another ... FAILED

failures:
    tests::another

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

running 1 test
test src/lib.rs - add (line 3) ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
"""
    result = parse_test_output(text)
    assert result is not None and (result.passed, result.failed) == (2, 1)
    assert result.failing == ["tests::another"]


def test_ctest() -> None:
    # shape from public ctest logs (https://pastebin.com/sUSMJ8gP, cucumber/cucumber-cpp#1)
    text = """\
11/12 Test #11: Hex_test ......................... Passed 0.01 sec
12/12 Test #12: LabelSplicer_test ................ Passed 0.00 sec
92% tests passed, 1 tests failed out of 12
Total Test time (real) = 1.38 sec
The following tests FAILED:
\t  1 - CryptoAuth_unit_test (OTHER_FAULT)
Errors while running CTest
"""
    result = parse_test_output(text)
    assert result is not None and result.runner == "ctest"
    assert (result.passed, result.failed, result.failing) == (11, 1, ["CryptoAuth_unit_test"])


# -- RSpec, PHPUnit -------------------------------------------------------------------------------


def test_rspec() -> None:
    # shape from RSpec's documentation (rspec.info, exit status) and a public run
    # (https://gist.github.com/mooreniemi/f249e7fb7423c32496617c3338d85747)
    text = """\
Finished in 0.01647 seconds (files took 0.07694 seconds to load)
3 examples, 1 failure, 1 pending

Failed examples:

rspec ./sample_spec.rb:2 # sample should give output
"""
    result = parse_test_output(text)
    assert result is not None and result.runner == "rspec"
    assert (result.passed, result.failed, result.skipped) == (1, 1, 1)
    assert result.failing == ["./sample_spec.rb:2"]


def test_phpunit() -> None:
    # shape from public PHPUnit runs (https://pastebin.com/FgiKYM4S) and its documentation
    text = """\
There was 1 error:

1) Tests\\PostTest::testEmpty
RuntimeException: boom

There were 2 failures:

1) Tests\\PostTest::testGet
Failed asserting that 0 matches expected 1.

2) Tests\\PostTest::testSum with data set #1 (2, 3)
Failed asserting that 4 matches expected 5.

FAILURES!
Tests: 14, Assertions: 45, Failures: 2, Errors: 1.
"""
    result = parse_test_output(text)
    assert result is not None and result.runner == "phpunit"
    assert (result.passed, result.failed, result.errors) == (11, 2, 1)
    assert result.failing == ["Tests\\PostTest::testEmpty", "Tests\\PostTest::testGet",
                              "Tests\\PostTest::testSum with data set #1"]
    ok = parse_test_output("OK (5 tests, 9 assertions)\n")
    assert ok is not None and (ok.passed, ok.ok) == (5, True)


# -- tox and nox: the inner runner's counts, the wrapper's verdict --------------------------------


def test_tox_4_runs_pytest() -> None:
    # dev/vorflux-opus46-gpt55-swebv/sphinx-doc__sphinx-8475/sphinx-doc__sphinx-8475.json
    text = (
        "\x1b[31mFAILED\x1b[0m tests/test_build_linkcheck.py::\x1b[1m"
        "test_connect_to_selfsigned_fails\x1b[0m - AttributeError: module 'ssl' has no "
        "attribute 'wrap_socket'\n"
        "\x1b[31m================== \x1b[31m\x1b[1m5 failed\x1b[0m, \x1b[32m12 passed\x1b[0m, "
        "\x1b[33m455 warnings\x1b[0m\x1b[31m in 2.32s\x1b[0m\x1b[31m ==================\x1b[0m\n"
        "py39: exit 1 (2.95 seconds) /code/sphinx-doc/sphinx> python -X dev -m pytest -rA "
        "--durations 25 tests/test_build_linkcheck.py pid=36069\n"
        "  py39: FAIL code 1 (2.96=setup[0.01]+cmd[2.95] seconds)\n"
        "  evaluation failed :( (3.02 seconds)\n")
    result = parse_test_output(text)
    assert result is not None and result.runner == "pytest"
    assert (result.passed, result.failed, result.ok) == (12, 5, False)
    assert result.failing == ["tests/test_build_linkcheck.py::test_connect_to_selfsigned_fails"]


def test_tox_verdict_alone() -> None:
    # dev/vorflux-opus46-gpt55-swebv/sphinx-doc__sphinx-9320/sphinx-doc__sphinx-9320.json:
    # tox could not even start pytest (a plugin failed to import)
    text = ("ImportError: Error importing plugin \"sphinx.testing.fixtures\": cannot import "
            "name 'Union' from 'types' (/usr/lib/python3.12/types.py)\n"
            "  py39: FAIL code 1 (0.41=setup[0.15]+cmd[0.26] seconds)\n"
            "  evaluation failed :( (0.48 seconds)\n")
    result = parse_test_output(text)
    assert result is not None and (result.runner, result.ok, result.counted) == (
        "tox", False, False)
    # tox 3, shape from a public log (https://gist.github.com/msabramo/a21033f86b0a22897a88)
    # and tox's documentation
    failed = parse_test_output("py27 runtests: commands[1] | false\n"
                               "ERROR: InvocationError: '/usr/bin/false'\n")
    assert failed is not None and not failed.ok
    passed = parse_test_output("  py27: commands succeeded\n  congratulations :)\n")
    assert passed is not None and passed.ok


def test_a_wrapper_that_failed_fails_the_run_whatever_the_counts() -> None:
    text = "=== 3 passed in 0.10s ===\nERROR: InvocationError for command /bin/flake8\n"
    result = parse_test_output(text)
    assert result is not None and result.passed == 3 and not result.ok


def test_nox() -> None:
    # shape from nox's tutorial ("nox > Session lint was successful.") and a public run
    # (https://gist.github.com/dhermes/1153863ddd3dfb44c2e3cf3206a0bcea)
    passed = parse_test_output("nox > Running session lint\nnox > flake8 example.py\n"
                               "nox > Session lint was successful.\n")
    assert passed is not None and (passed.runner, passed.ok) == ("nox", True)
    failed = parse_test_output("nox > Command false failed with exit code 1\n"
                               "nox > Session bad failed.\n")
    assert failed is not None and not failed.ok
