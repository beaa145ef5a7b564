from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pytest_tracebench import Settings
from pytest_tracebench.manager import (
    BUILTIN_PLUGINS,
    PluginLoadError,
    get_plugin_manager,
    new_plugin_manager,
)


def test_builtins_register_through_the_public_hooks() -> None:
    pm = get_plugin_manager()
    for name in BUILTIN_PLUGINS:
        assert pm.get_plugin(name) is not None
    patterns = pm.hook.tracebench_redaction_patterns(settings=Settings(redact_patterns=["X+"]))
    flat = [name for plist in patterns for name, _ in plist]
    assert "openai-api-key" in flat and "configured_0" in flat


def test_configured_plugin_module_is_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    (tmp_path / "corp_patterns.py").write_text(
        "from pytest_tracebench import hookimpl\n"
        "@hookimpl\n"
        "def tracebench_redaction_patterns(settings):\n"
        "    return [('corp', 'CORP-[0-9]+')]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = get_plugin_manager(["corp_patterns"])
    names = [n for plist in pm.hook.tracebench_redaction_patterns(settings=Settings())
             for n, _ in plist]
    assert "corp" in names
    sys.modules.pop("corp_patterns", None)


def test_misspelled_hook_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "typo_plugin.py").write_text(
        "from pytest_tracebench import hookimpl\n"
        "@hookimpl\n"
        "def tracebench_detector(settings):\n"
        "    return []\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginLoadError, match="tracebench_detector"):
        get_plugin_manager(["typo_plugin"])
    sys.modules.pop("typo_plugin", None)


def test_missing_plugin_module_is_a_clear_error() -> None:
    with pytest.raises(PluginLoadError, match="cannot import plugin module 'no_such_mod_xyz'"):
        get_plugin_manager(["no_such_mod_xyz"])


def test_one_plugin_manager_per_configuration(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Every part of a process asks for the manager; the modules are imported and the entry
    points walked once per configuration, not once per caller (issue 18)."""
    assert get_plugin_manager() is get_plugin_manager([])
    (tmp_path / "shared_patterns.py").write_text(
        "from pytest_tracebench import hookimpl\n"
        "@hookimpl\n"
        "def tracebench_redaction_patterns(settings):\n"
        "    return [('shared', 'SHARED-[0-9]+')]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    configured = get_plugin_manager(["shared_patterns"])
    assert configured is get_plugin_manager(["shared_patterns"])
    assert configured is not get_plugin_manager()
    assert new_plugin_manager(["shared_patterns"]) is not configured


def test_a_module_imported_again_gets_a_new_manager(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A configured module dropped from ``sys.modules`` (pytester's snapshot, a test that
    rewrites it) is imported again, as a manager built now would."""
    module = tmp_path / "changing_patterns.py"
    module.write_text(
        "from pytest_tracebench import hookimpl\n"
        "@hookimpl\n"
        "def tracebench_redaction_patterns(settings):\n"
        "    return [('first', 'FIRST-[0-9]+')]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    first = get_plugin_manager(["changing_patterns"])
    sys.modules.pop("changing_patterns")
    module.write_text(module.read_text().replace("first", "second"))
    second = get_plugin_manager(["changing_patterns"])
    names = [n for plist in second.hook.tracebench_redaction_patterns(settings=Settings())
             for n, _ in plist]
    assert second is not first and "second" in names and "first" not in names
    sys.modules.pop("changing_patterns", None)
