"""The pytest stash keys of the plugin and its session, in a module of their own so that
``plugin.py`` (imported by every pytest run, so it imports almost nothing) and ``session.py``
(imported only when recording is on) share them without importing each other."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_tracebench.record.recorder import TraceRecorder
    from pytest_tracebench.session import TracebenchState
    from pytest_tracebench.settings import Settings

STATE_KEY: pytest.StashKey[TracebenchState] = pytest.StashKey()
"""The session's :class:`~pytest_tracebench.session.TracebenchState`, on ``config.stash``."""
RECORDER_KEY: pytest.StashKey[TraceRecorder] = pytest.StashKey()
"""A test's recorder, on ``item.stash``, until its call report hands the trace on."""
TEST_SETTINGS_KEY: pytest.StashKey[tuple[Settings, frozenset[str]]] = pytest.StashKey()
"""A test's settings with its marker's overrides, and which settings the marker gave."""
