from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


@pytest.fixture
def seed_trace_path() -> Path:
    return EXAMPLES / "trace.json"


@pytest.fixture(autouse=True)
def _no_user_tracebench_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests must not depend on a developer's PYTEST_ADDOPTS."""
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    os.environ.pop("PYTEST_XDIST_AUTO_NUM_WORKERS", None)
