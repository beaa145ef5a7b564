"""Which simple commands run a test suite, and with which runner.

:func:`test_runner` judges one simple command by its words (wrappers such as ``sudo``,
``timeout 60``, ``env X=1``, ``uv run`` and ``npx`` already removed by :mod:`.commands`): the
program and the arguments that decide. ``pytest``, ``python -m pytest -q`` and ``npm test``
run tests; ``pip install pytest``, ``pytest --version`` and ``which pytest`` do not.

Commands that only list or describe tests are not test runs: ``pytest --collect-only`` (and
``--co``, ``--fixtures``, ``--markers``, ``--setup-plan``), ``ctest -N``, ``tox -l``,
``nox --list``. They execute no test, so they are neither evidence that tests pass nor that
they fail; they are plain commands.

A Python script named like a test (``python test_fix.py``, ``python tests/check.py``) counts
as a test run of runner ``script``: it is how agents run the checks they write, and its output
holds a unittest or pytest summary when the script calls one.
"""

from __future__ import annotations

import re

# Flags after which pytest (or the wrapper) runs no test at all.
_PYTEST_NO_RUN = frozenset({
    "--version", "-V", "--help", "-h", "--collect-only", "--co", "--fixtures", "--funcargs",
    "--fixtures-per-test", "--markers", "--setup-plan", "--setup-only", "--cache-show",
})
_HELP = frozenset({"--version", "-V", "--help", "-h"})
_LISTING = {  # per program: the arguments that list or describe instead of running
    "tox": _HELP | {"-l", "-a", "--listenvs", "--listenvs-all", "--showconfig"},
    "nox": _HELP | {"-l", "--list", "--list-sessions"},
    "ctest": _HELP | {"-N", "--show-only", "--print-labels"},
    "jest": _HELP | {"--listTests", "--showConfig"},
    "vitest": _HELP | {"list"},
}
_PYTHON = re.compile(r"^(?:python|pypy)[\d.]*$")
_PYTHON_VALUE_FLAGS = frozenset({"-W", "-X", "--check-hash-based-pycs"})
_PYTHON_MODULES = {
    "pytest": "pytest", "py.test": "pytest", "unittest": "unittest", "nose": "nose",
    "nose2": "nose", "tox": "tox", "nox": "nox", "twisted.trial": "trial",
    "sympy.testing.runtests": "sympy", "sympy.utilities.runtests": "sympy",
}
# "test_fix.py", "fix_test.py", "run_tests.py", "tests.py": "test" as a part of the name.
_TEST_SCRIPT = re.compile(r"(?:^|[/_.-])tests?(?:[_.-][^/]*)?\.py$")
_TEST_DIR = re.compile(r"(?:^|/)(?:tests?|testing)/[^/]+\.py$")
_TEST_SHELL_SCRIPT = re.compile(r"(?:^|/)(?:run[_-]?)?tests?(?:[_-][\w.-]*)?\.sh$")
# Test runners called from code: ``python -c "import pytest; pytest.main([...])"``.
_CODE_RUNNERS = (("pytest.main(", "pytest"), ("unittest.main(", "unittest"),
                 ("TextTestRunner(", "unittest"), ("runtests import test", "sympy"))
_JS_RUNNERS = {"jest": "jest", "vitest": "vitest", "mocha": "mocha", "ava": "ava",
               "jasmine": "jasmine", "karma": "karma", "tap": "tap"}
_NPM_VALUE_FLAGS = frozenset({"--prefix", "-C", "--dir", "--filter", "-F", "--workspace", "-w",
                              "--cwd"})
_MAVEN_TEST_PHASES = frozenset({"test", "verify", "integration-test", "install", "package",
                                "deploy", "surefire:test", "failsafe:integration-test"})
_MAVEN_SKIP = ("-DskipTests", "-Dmaven.test.skip=true", "-DskipTests=true")
_GRADLE_TASK = re.compile(r"^(?:[\w-]*:)*(?:test\w*|\w*Test|check|build)$")
_MAKE_TARGET = re.compile(r"^(?:test|tests|check|unittest|test[-_]\S+|check[-_]\S+|\S+[-_]tests?)$")
_SIMPLE = {  # program -> (runner, the first argument it needs, or "" for none)
    "go": ("go", "test"), "dotnet": ("dotnet", "test"), "mix": ("mix", "test"),
    "swift": ("swift", "test"), "deno": ("deno", "test"), "bun": ("bun", "test"),
    "bazel": ("bazel", "test"), "bazelisk": ("bazel", "test"), "rails": ("rails", "test"),
    "rspec": ("rspec", ""), "phpunit": ("phpunit", ""), "prove": ("prove", ""),
    "nosetests": ("nose", ""), "nose2": ("nose", ""), "trial": ("trial", ""),
}


def test_runner(words: list[str]) -> str | None:
    """The runner a simple command runs tests with (``pytest``, ``unittest``, ``django``,
    ``npm``, ...), or ``None`` when it runs no tests."""
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    args = words[1:]
    if _TEST_SHELL_SCRIPT.search(words[0]):
        return "script"
    if program in ("pytest", "py.test") or re.match(r"^py\.?test-?[\d.]*$", program):
        return None if _PYTEST_NO_RUN.intersection(args) else "pytest"
    if _PYTHON.match(program):
        return _python_runner(args)
    if program == "coverage":
        return _python_runner(args[1:]) if args[:1] == ["run"] else None
    if program in ("tox", "nox"):
        listing = _LISTING[program].intersection(args) or (
            program == "tox" and args[:1] in (["list"], ["l"], ["config"], ["c"]))
        return None if listing else program
    if program in ("manage.py", "runtests.py") or words[0].endswith(("bin/test",
                                                                     "bin/doctest")):
        return _script_runner(words[0], args)
    if program == "cargo":
        return "cargo" if args[:1] in (["test"], ["t"], ["nextest"]) else None
    if program in _SIMPLE:
        runner, needs = _SIMPLE[program]
        return runner if not needs or args[:1] == [needs] else None
    if program in ("npm", "pnpm", "yarn", "bun"):
        return _package_manager_runner(program, args)
    if program in _JS_RUNNERS:
        return None if _LISTING.get(program, _HELP).intersection(args) else _JS_RUNNERS[program]
    if program == "playwright":
        return "playwright" if args[:1] == ["test"] else None
    if program in ("mvn", "mvnw", "mvnd"):
        return _maven_runner(args)
    if program in ("gradle", "gradlew"):
        return _gradle_runner(args)
    if program in ("make", "gmake"):
        targets = [a for a in args if not a.startswith("-") and "=" not in a]
        return "make" if any(_MAKE_TARGET.match(t) for t in targets) else None
    if program == "ctest":
        return None if _LISTING["ctest"].intersection(args) else "ctest"
    if program == "cmake":
        target = args[args.index("--target") + 1] if "--target" in args[:-1] else ""
        return "ctest" if target in ("test", "check") else None
    if program == "rake":
        return "rake" if any(a in ("test", "spec") or a.startswith(("test:", "spec:"))
                             for a in args) else None
    if program == "php" and args:
        return test_runner(args) if args[0].endswith("phpunit") else (
            "phpunit" if args[:2] == ["artisan", "test"] else None)
    if program == "composer":
        return "phpunit" if args[:1] == ["test"] else None
    return None


def _python_runner(args: list[str]) -> str | None:
    """``python [options] -m MODULE ...``, ``python -c CODE`` or ``python SCRIPT ...``."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _PYTHON_VALUE_FLAGS:
            i += 2
            continue
        if arg.startswith("-m"):
            module = args[i + 1] if arg == "-m" and i + 1 < len(args) else arg[2:]
            return _module_runner(module, args[i + (2 if arg == "-m" else 1):])
        if arg == "-c" or (arg.startswith("-c") and len(arg) > 2):
            code = args[i + 1] if arg == "-c" and i + 1 < len(args) else arg[2:]
            return next((runner for call, runner in _CODE_RUNNERS if call in code), None)
        if arg == "-":
            return None  # the program comes from stdin (a heredoc): not judged
        if arg.startswith("-"):
            i += 1
            continue
        return _script_runner(arg, args[i + 1:])
    return None


def _module_runner(module: str, rest: list[str]) -> str | None:
    if module in ("pytest", "py.test"):
        return None if _PYTEST_NO_RUN.intersection(rest) else "pytest"
    if module == "django":
        return "django" if rest[:1] == ["test"] else None
    if module in ("tox", "nox") and _LISTING[module].intersection(rest):
        return None
    if module == "coverage":
        return _python_runner(rest[1:]) if rest[:1] == ["run"] else None
    if module == "unittest" and ("-h" in rest or "--help" in rest):
        return None
    return _PYTHON_MODULES.get(module)


def _script_runner(script: str, rest: list[str]) -> str | None:
    name = script.rsplit("/", 1)[-1]
    if name == "manage.py":
        return "django" if rest[:1] == ["test"] else None
    if name == "runtests.py":
        return "django"  # Django's own suite (tests/runtests.py) in SWE-bench tasks
    if script.endswith(("bin/test", "bin/doctest")):
        return "sympy"
    if name == "setup.py":
        return "setuptools" if "test" in rest else None
    if _TEST_SCRIPT.search(script) or _TEST_DIR.search(script):
        return "script"
    return None


def _package_manager_runner(program: str, args: list[str]) -> str | None:
    """``npm test``, ``npm run test:unit``, ``pnpm -C web test``, ``yarn jest``,
    ``pnpm exec vitest``, ``yarn workspace app test``."""
    positional: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _NPM_VALUE_FLAGS:
            skip = True
        elif not arg.startswith("-"):
            positional.append(arg)
    if not positional:
        return None
    if program == "yarn" and positional[0] == "workspace" and len(positional) > 2:
        positional = positional[2:]
    head = positional[0]
    if head in ("test", "t", "tst"):
        return "npm" if program != "bun" else "bun"
    if head in ("run", "run-script") and len(positional) > 1:
        return "npm" if positional[1].split(":", 1)[0] in ("test", "tests") else None
    if head in ("exec", "dlx", "x") and len(positional) > 1:
        return test_runner(positional[1:])
    if program in ("pnpm", "yarn") and head in _JS_RUNNERS:
        return _JS_RUNNERS[head]
    return None


def _maven_runner(args: list[str]) -> str | None:
    if any(a.startswith(_MAVEN_SKIP) for a in args):
        return None
    goals = [a for a in args if not a.startswith("-")]
    return "maven" if _MAVEN_TEST_PHASES.intersection(goals) else None


def _gradle_runner(args: list[str]) -> str | None:
    excluded = {args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-x", "--exclude-task")}
    if any(task.rsplit(":", 1)[-1] == "test" for task in excluded):
        return None
    tasks = [a for a in args if not a.startswith("-") and a not in excluded]
    return "gradle" if any(_GRADLE_TASK.match(t) for t in tasks) else None
