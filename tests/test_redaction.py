from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_tracebench import Redactor, Settings, TraceRecorder, hookimpl, load_trace
from pytest_tracebench.manager import new_plugin_manager
from pytest_tracebench.pipeline import Pipeline
from pytest_tracebench.record.redaction import BUILTIN_PATTERNS, REDACTED, redactor_from_settings

# Real-looking formats (not real keys).
SECRETS = {
    "openai": "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6",
    "anthropic": "sk-ant-api03-" + "x" * 40,
    "github_classic": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "github_fine": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    "aws_id": "AKIAIOSFODNN7EXAMPLE",
    "google": "AIza" + "SyA-1234567890abcdefghijklmnopqrstu",
    "slack": "xoxb-1234567890-0987654321-abcdefghij",
    "hf": "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz12345678",
    "stripe": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "gitlab": "glpat-" + "xxxxxxxxxxxxxxxxxxxx",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
           "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
}


def _file_text(path: Path) -> str:
    return path.read_text()


def test_secrets_in_command_output_llm_prompt_and_tool_argument_never_reach_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.jsonl"
    rec = TraceRecorder(path)
    env_dump = "\n".join(f"KEY_{name.upper()}={value}" for name, value in SECRETS.items())
    rec.command("env", exit_code=0, stdout=env_dump + "\nDB_PASSWORD=hunter2\n")
    rec.llm([{"role": "system", "content": f"Use the key {SECRETS['anthropic']} to call the API"},
             {"role": "user", "content": "Authorization: Bearer abcdef0123456789abcdef"}],
            response="ok", input_tokens=100, output_tokens=5)

    @rec.tool
    def http_get(url: str, headers: dict[str, str], api_key: str) -> str:
        return "200"

    http_get("https://user:s3cretpw@example.com/x", {"Authorization": "token ghs_" + "z" * 36},
             api_key="plainvalue-not-a-known-format")
    rec.end()
    text = _file_text(path)
    for name, value in SECRETS.items():
        assert value not in text, name
    for leaked in ("hunter2", "abcdef0123456789abcdef", "s3cretpw", "plainvalue-not-a-known",
                   "z" * 36):
        assert leaked not in text
    assert text.count(REDACTED) >= len(SECRETS) + 4
    # Context around secrets survives, and the file still loads.
    trace = load_trace(path)
    assert "DB_PASSWORD=[REDACTED]" in trace.steps[0].output["stdout"]
    assert trace.steps[1].output["usage"] == {"input_tokens": 100, "output_tokens": 5}
    assert trace.steps[2].input["url"] == "https://user:[REDACTED]@example.com/x"


def test_numbers_and_ordinary_words_are_left_alone() -> None:
    redactor = Redactor(BUILTIN_PATTERNS)
    for text in ("max_tokens=100", "input_tokens: 1234", "the tokenizer=bert model",
                 "Tokens: 5.2k sent, 300 received", "see https://example.com/docs",
                 "skip-this sk-short", "PWD=/home/user"):
        assert redactor.redact_text(text) == text


def test_private_key_blocks_are_removed_whole() -> None:
    redactor = Redactor(BUILTIN_PATTERNS)
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----"
    assert redactor.redact_text(f"cat id_rsa\n{key}\ndone") == f"cat id_rsa\n{REDACTED}\ndone"


def test_secret_named_keys_are_redacted_structurally() -> None:
    redactor = Redactor(BUILTIN_PATTERNS)
    value = {"password": "x", "nested": [{"api_key": "short"}], "tokens": 3, "token": ""}
    assert redactor.redact_value(value) == {
        "password": REDACTED, "nested": [{"api_key": REDACTED}], "tokens": 3, "token": "",
    }


def test_configured_patterns_are_applied(tmp_path: Path) -> None:
    patterns = [*BUILTIN_PATTERNS, ("internal", r"CORP-[0-9]{6}")]
    rec = TraceRecorder(tmp_path / "t.jsonl", redactor=Redactor(patterns))
    rec.message("ticket CORP-123456 is the internal id")
    rec.end()
    assert "CORP-123456" not in (tmp_path / "t.jsonl").read_text()


def test_redaction_can_be_turned_off(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl", redact=False)
    rec.message(f"key {SECRETS['openai']}")
    rec.end()
    assert SECRETS["openai"] in (tmp_path / "t.jsonl").read_text()


def test_invalid_pattern_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="redaction pattern 'bad' is not a valid regex"):
        Redactor([("bad", "(unclosed")])


def test_every_written_line_stays_valid_json_whatever_is_redacted(tmp_path: Path) -> None:
    rec = TraceRecorder(tmp_path / "t.jsonl")
    nasty = 'password="quoted\\" secret" -----BEGIN PRIVATE KEY-----\n"}]{\\'
    rec.command(nasty, exit_code=0, stdout=nasty)
    rec.end()
    for line in (tmp_path / "t.jsonl").read_text().splitlines():
        json.loads(line)


def test_a_plugins_patterns_give_one_redactor_per_process() -> None:
    """The recorder, the pipeline and the end of the run share the redactor a plugin's
    patterns make, rather than each building (and compiling) its own."""
    class Plugin:
        @hookimpl
        def tracebench_redaction_patterns(self, settings: object) -> list[tuple[str, str]]:
            return [("internal-token", r"itok_[0-9a-f]{16}")]

    pm = new_plugin_manager(load_entrypoints=False)
    pm.register(Plugin())
    settings = Settings()
    first = redactor_from_settings(settings, pm)
    assert first is not None and first is redactor_from_settings(settings, pm)
    assert Pipeline.from_settings(settings, pm).redactor is first
    assert first.redact_text("key itok_0123456789abcdef") == f"key {REDACTED}"
