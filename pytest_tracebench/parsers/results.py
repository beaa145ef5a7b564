"""The result of reading one test run's output, shared by the per-runner parsers.

Kept apart from :mod:`.test_output` (which picks the parser) so that each runner family's
module can build results without importing the dispatcher.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TestResult:
    """Counts and failing ids of one test run. ``ok`` is the run's verdict.

    ``failing`` holds each failing (or erroring) test once, in the order first printed, as the
    runner names it: pytest node ids (``tests/test_x.py::test_y[param]``), dotted unittest ids
    (``mod.Class.test_x``, whatever the Python version printed), ``Class.method`` for JVM runners,
    ``file > describe > test`` for Vitest, and so on (see ``docs/formats.md``).
    """

    __test__ = False  # not a pytest test class

    runner: str
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failing: list[str] = field(default_factory=list)
    run_failed: bool = False
    """The runner or its wrapper reported a failed run beyond the counted tests: a tox/nox
    environment failed, Maven ``BUILD FAILURE``, Gradle ``BUILD FAILED``, an npm/pnpm/yarn test
    script that failed."""
    counted: bool = True
    """False when only the runner's verdict was read (tox's ``congratulations :)``, Maven's
    ``BUILD SUCCESS`` with no test summary): the counts are then unknown, not zero."""

    @property
    def ok(self) -> bool:
        return not self.run_failed and self.failed == 0 and self.errors == 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped

    def as_output(self) -> dict[str, Any]:
        """The well-known keys of a ``test`` step's output (counts ``None`` when unknown)."""
        counts: dict[str, Any] = {
            "passed": self.passed, "failed": self.failed, "errors": self.errors,
            "skipped": self.skipped,
        } if self.counted else {"passed": None, "failed": None, "errors": None, "skipped": None}
        return {"ok": self.ok, **counts, "failing": self.failing, "runner": self.runner}


def unique(items: Iterable[str]) -> list[str]:
    """Items once each, first occurrence first (runners print a failing id in the progress
    line, in the failure's header and in the short summary)."""
    return list(dict.fromkeys(item for item in items if item))
