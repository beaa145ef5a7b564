"""Build the plugin manager: hook specs, built-in plugins, entry points, configured modules.

The order follows pluggy's own example application: specs first, then our built-in plugins
registered exactly like outside ones, then the ``tracebench`` entry-point group, then modules
named in the ``tracebench_plugins`` setting. ``check_pending`` turns a misspelled hook
implementation into an error instead of a silently ignored function.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

import pluggy

from pytest_tracebench import hookspecs

PROJECT_NAME = "tracebench"

#: Modules that implement TraceBench features through its own hooks, registered first.
BUILTIN_PLUGINS: tuple[str, ...] = (
    "pytest_tracebench.record.redaction",
    "pytest_tracebench.importers.builtin",
    "pytest_tracebench.detectors.loops",
    "pytest_tracebench.detectors.testing",
    "pytest_tracebench.detectors.claims",
    "pytest_tracebench.detectors.tampering",
    "pytest_tracebench.detectors.flow",
    "pytest_tracebench.detectors.runtime",
    "pytest_tracebench.detectors.divergence",
)


class PluginLoadError(Exception):
    """A plugin named in the settings could not be imported or registered."""


def get_plugin_manager(
    plugins: Iterable[str] = (), *, load_entrypoints: bool = True
) -> pluggy.PluginManager:
    """Return a ready plugin manager with built-ins, entry points and ``plugins`` registered."""
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(PROJECT_NAME)
    for name in plugins:
        if pm.get_plugin(name) is not None:
            continue
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            raise PluginLoadError(
                f"tracebench_plugins: cannot import plugin module {name!r}: {exc}"
            ) from exc
        pm.register(module, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginLoadError(f"tracebench plugin error: {exc}") from exc
    return pm
