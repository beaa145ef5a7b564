"""Build the plugin manager: hook specs, built-in plugins, entry points, configured modules.

The order follows pluggy's own example application: specs first, then our built-in plugins
registered exactly like outside ones, then the ``tracebench`` entry-point group, then modules
named in the ``tracebench_plugins`` setting. ``check_pending`` turns a misspelled hook
implementation into an error instead of a silently ignored function.

One manager serves a whole process for one configuration (issue 18): the pytest session, the
pipeline, the importers, the redactor and the dashboard all asked for their own, each importing
every built-in module again and walking the entry points (4 managers for 3 tests, 9 for a CLI
analysis of 3 files). :func:`get_plugin_manager` returns the same manager for the same
``plugins`` as long as those modules are still the ones imported; :func:`new_plugin_manager`
builds a private one for a caller that registers plugins of its own on it.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Iterable

import pluggy

from pytest_tracebench import hookspecs

__all__ = ["BUILTIN_PLUGINS", "PROJECT_NAME", "PluginLoadError", "get_plugin_manager",
           "new_plugin_manager"]

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


_Key = tuple[tuple[str, ...], bool]
_CACHE: dict[_Key, pluggy.PluginManager] = {}
_LOCK = threading.Lock()


def get_plugin_manager(
    plugins: Iterable[str] = (), *, load_entrypoints: bool = True
) -> pluggy.PluginManager:
    """The process's plugin manager for ``plugins``: built-ins, entry points and ``plugins``.

    Shared: callers read hooks from it and must not register on it (use
    :func:`new_plugin_manager`). It is built again when a configured module is no longer the
    one imported (a test that removed it from ``sys.modules``, pytester's module snapshot), so
    the manager always holds the modules an import would give now."""
    key = (tuple(plugins), load_entrypoints)
    with _LOCK:
        pm = _CACHE.get(key)
        if pm is None or not _current(pm, key[0]):
            pm = _CACHE[key] = new_plugin_manager(key[0], load_entrypoints=load_entrypoints)
    return pm


def _current(pm: pluggy.PluginManager, plugins: tuple[str, ...]) -> bool:
    """Every configured module registered on ``pm`` is still the imported one."""
    return all(sys.modules.get(name) is pm.get_plugin(name) for name in plugins
               if name not in BUILTIN_PLUGINS)


def new_plugin_manager(
    plugins: Iterable[str] = (), *, load_entrypoints: bool = True
) -> pluggy.PluginManager:
    """A new plugin manager with built-ins, entry points and ``plugins`` registered."""
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
