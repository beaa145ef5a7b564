"""The built-in secret rules (``secret_rules.toml``): each compiles, catches values drawn from
its sample in any context, and its keywords are sound (every text its regex matches holds
one, so neither the Python pre-check nor the native writer's can skip a secret). Then the
cases of issue 19 one by one: each failed before the rule set was adopted.

No secret is stored here: values are drawn at run time (``tests/_secret_samples.py``).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_tracebench import TraceRecorder
from pytest_tracebench.record._stepwriter import compile_triggers, native_available
from pytest_tracebench.record.redaction import (
    BUILTIN_PATTERNS,
    BUILTIN_TRIGGERS,
    REDACTED,
    Redactor,
    clip,
    default_redactor,
    derive_keywords,
    load_rules,
    translate_go_regex,
)

from ._secret_samples import expand

RULES = {rule.name: rule for rule in BUILTIN_PATTERNS}
CONTEXTS = ("{}", "x {} y", '"{}"', "'{}'", '{{"k": "{}"}}', "a=({})\n", "`{}`")


def _drawn(seed: int = 7) -> random.Random:
    return random.Random(seed)


def test_every_rule_compiles_has_a_sample_and_printable_keywords() -> None:
    assert len(RULES) == len(BUILTIN_PATTERNS)  # ids are unique
    for rule in BUILTIN_PATTERNS:
        re.compile(rule.regex)
        assert rule.sample, rule.name
        assert rule.keywords, rule.name
        for keyword in rule.keywords:
            assert keyword == keyword.lower() and len(keyword) >= 3, (rule.name, keyword)
            assert keyword.isascii() and keyword.isprintable(), (rule.name, keyword)
            assert '"' not in keyword and "\\" not in keyword, (rule.name, keyword)


def test_the_native_scanner_can_hold_every_trigger() -> None:
    # Past 256 triggers, or with one shorter than 3, the native writer would scan every line
    # in Python (or without its SIMD filter): the fast path would be gone.
    assert len(BUILTIN_TRIGGERS) <= 256
    assert min(len(t) for t in BUILTIN_TRIGGERS) >= 3


@pytest.mark.parametrize("rule", BUILTIN_PATTERNS, ids=lambda r: r.name)
def test_each_rule_catches_its_sample_in_every_context(rule: object) -> None:
    redactor = default_redactor()
    rnd = _drawn()
    for _ in range(5):
        text, parts = expand(rule.sample, rnd)  # type: ignore[attr-defined]
        assert parts
        for context in CONTEXTS:
            planted = context.format(text)
            out = redactor.redact_text(planted)
            assert not [p for p in parts if p in out], (planted, out)
            assert REDACTED in out
            # The line-level pre-checks see it in a serialised step as well.
            line = json.dumps({"output": planted}, ensure_ascii=False)
            assert redactor.might_contain(line), planted


@pytest.mark.parametrize("rule", BUILTIN_PATTERNS, ids=lambda r: r.name)
def test_every_text_a_rule_matches_holds_one_of_its_keywords(rule: object) -> None:
    regex = re.compile(rule.regex)  # type: ignore[attr-defined]
    keywords = rule.keywords  # type: ignore[attr-defined]

    @settings(max_examples=25, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.from_regex(regex))
    def check(text: str) -> None:
        match = regex.search(text)
        assert match is not None
        lowered = match.group(0).lower()
        assert any(k in lowered for k in keywords), (lowered, keywords)

    check()


@pytest.mark.skipif(not native_available(), reason="the native writer was not built")
def test_the_native_writer_declines_every_sample_and_the_file_holds_none(
        tmp_path: Path) -> None:
    scanner = compile_triggers(BUILTIN_TRIGGERS)
    assert scanner is not None
    rnd = _drawn(11)
    path = tmp_path / "t.jsonl"
    rec = TraceRecorder(path)
    planted = []
    for rule in BUILTIN_PATTERNS:
        text, parts = expand(rule.sample or "", rnd)
        planted += parts
        line = json.dumps({"stdout": f"out {text} end"}, ensure_ascii=False).encode()
        assert scanner.might_contain(line), rule.name
        assert scanner.might_contain(line, False), rule.name  # without SIMD too
        rec.command("env", exit_code=0, stdout=f"out {text} end")
    rec.end()
    written = path.read_text()
    assert [p for p in planted if p in written] == []


# -- the cases of issue 19 -------------------------------------------------------------------

def _value(n: int = 24, seed: int = 3) -> str:
    rnd = random.Random(seed)
    return "".join(rnd.choice("ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789")
                   for _ in range(n))


CONTEXT_CASES = {
    "escaped_json_quotes": 'echo "{{\\"api_key\\": \\"{v}\\"}}"',
    "redis_empty_user": "redis-cli -u redis://:{v}@cache:6379/0",
    "db_pass": "export DB_PASS={v}",
    "odbc_pwd": "Driver={{ODBC Driver 18}};Server=db;Uid=sa;Pwd={v};Encrypt=yes",
    "authorization_token": "curl -H 'Authorization: Token {v}' https://api",
    "mysql_p": "mysql -u root -p'{v}' app",
    "mysql_p_attached": "mysqldump -h db -P 3306 -uroot -p{v} app",
    "curl_u": "curl -s -u deploy:{v} https://api.example.com",
    "sshpass": "sshpass -p {v} ssh deploy@host",
    "docker_login": "docker login -u ci -p {v} registry.example.com",
    "netrc": "machine api.example.com\n  login ci\n  password {v}\n",
    "netrc_one_line": "machine api.example.com login ci password {v}",
    "netrc_in_json_text": "machine api.example.com\\n  login ci\\n  password {v}\\n",
    "netrc_in_json_in_json": "machine h\\\\n  login ci\\\\n  password {v}\\\\n",
    "azure_secret_after_escaped_newline": "id\\nabc8Q~{v}Xk3mP9qZ",
    "token_option": "gh auth login --hostname ghe --token {v}",
    "presigned_s3": "https://b.s3.amazonaws.com/run.json?X-Amz-Expires=60&X-Amz-Signature={v}",
    "oauth_query": "https://api.example.com/v1/runs?access_token={v}&page=2",
}


@pytest.mark.parametrize("name", CONTEXT_CASES)
def test_credentials_on_command_lines_in_urls_and_connection_strings(name: str) -> None:
    value = _value()
    text = CONTEXT_CASES[name].format(v=value)
    out = default_redactor().redact_text(text)
    assert value not in out, out
    assert REDACTED in out


def test_ordinary_text_around_those_rules_is_left_alone() -> None:
    redactor = default_redactor()
    for text in ("PWD=/home/user", "mysql -P 3306 -h db", "curl -s https://example.com/x",
                 "docker login registry.example.com", "--max-tokens 4096",
                 "1 passed, 2 failed", "key-value store", "the sig= field"):
        assert redactor.redact_text(text) == text, text


def test_private_keys_of_pgp_putty_and_age_are_removed() -> None:
    redactor = default_redactor()
    rnd = _drawn(5)
    for name in ("private-key-block", "putty-private-key", "age-secret-key"):
        text, parts = expand(RULES[name].sample or "", rnd)
        out = redactor.redact_text(f"cat key\n{text}\ndone")
        assert not [p for p in parts if p in out], name
        assert out.endswith("done")


def test_a_cut_never_splits_a_secret() -> None:
    rnd = _drawn(9)
    jwt, _parts = expand(RULES["jwt"].sample or "", rnd)
    text = "x" * 3990 + " " + jwt + " tail"
    cut = clip(text, 4000)
    assert cut == "x" * 3990 + " "
    assert clip("short", 4000) == "short"


def test_imported_task_descriptions_are_cut_before_a_secret(tmp_path: Path) -> None:
    from pytest_tracebench.importers import import_path

    rnd = _drawn(2)
    jwt, _parts = expand(RULES["jwt"].sample or "", rnd)
    prompt = "Fix it. " + "y" * 3980 + " " + jwt
    path = tmp_path / "t.traj.json"
    path.write_text(json.dumps({
        "info": {"exit_status": "Submitted", "submission": ""}, "trajectory_format":
        "mini-swe-agent-1", "messages": [{"role": "system", "content": "You are an agent."},
                                         {"role": "user", "content": prompt}]}))
    trace = import_path(path)[0]
    description = trace.header.task.description or ""
    assert len(description) <= 4000
    assert "eyJ" not in description  # no head of the token without its signature


def test_go_syntax_rules_are_translated_and_load(tmp_path: Path) -> None:
    assert translate_go_regex(r"\b(p8e-(?i)[a-z0-9]{32})(?:\s|$)") == \
        r"\b(p8e-(?i:[a-z0-9]{32}))(?:\s|$)"
    assert translate_go_regex(r"dp\.pt\.(?i)[a-z0-9]{43}") == r"dp\.pt\.(?i:[a-z0-9]{43})"
    assert translate_go_regex(r"(?i)abc\z") == r"(?i)abc\Z"
    assert translate_go_regex(r"[(?i)]x") == r"[(?i)]x"  # inside a class: literal characters
    rules_file = tmp_path / "gitleaks.toml"
    rules_file.write_text("""
title = "a gitleaks-style file"
[[rules]]
id = "example-token"
regex = '''\\b(exmpl_(?i)[a-z0-9]{20})(?:[\\x60'"\\s;]|\\\\[nr]|$)'''
entropy = 2
keywords = ["exmpl_"]
[[rules]]
id = "path-only"
path = '''\\.p12$'''
[[rules]]
id = "no-keywords"
regex = '''corp-(?:id|key)-[0-9]{6}'''
""")
    rules = load_rules(rules_file)
    assert [r.name for r in rules] == ["example-token", "no-keywords"]
    assert rules[1].keywords == ("corp-",)
    redactor = Redactor([*BUILTIN_PATTERNS, *rules])
    value = "exmpl_" + _value(20).lower()
    assert redactor.redact_text(f"token {value} end") == f"token {REDACTED} end"
    assert redactor.redact_text("id corp-key-123456") == f"id {REDACTED}"
    assert redactor.triggers is not None  # still the fast path: every rule has keywords
    # Low entropy is not a key (gitleaks' own filter).
    assert redactor.redact_text("exmpl_" + "a" * 20 + " ") == "exmpl_" + "a" * 20 + " "


def test_configured_patterns_keep_the_pre_check_when_keywords_can_be_derived() -> None:
    assert derive_keywords(r"CORP-[0-9]{6}") == ("corp-",)
    assert derive_keywords(r"(?:alpha|beta)-[0-9]+") == ("alpha", "beta")
    assert derive_keywords(r"[0-9]{6}") == ()
    assert Redactor([*BUILTIN_PATTERNS, ("c", r"CORP-[0-9]{6}")]).triggers is not None
    assert Redactor([*BUILTIN_PATTERNS, ("c", r"[0-9]{16}")]).triggers is None


def test_redact_rules_setting_loads_a_rule_file(tmp_path: Path) -> None:
    from pytest_tracebench.record.redaction import redactor_from_settings
    from pytest_tracebench.settings import Settings

    rules_file = tmp_path / "extra.toml"
    rules_file.write_text("[[rules]]\nid = 'x'\nregex = '''zq9_[0-9]{8}'''\n"
                          "keywords = ['zq9_']\n")
    redactor = redactor_from_settings(Settings(redact_rules=[rules_file]))
    assert redactor is not None
    assert redactor.redact_text("see zq9_12345678") == f"see {REDACTED}"
