"""Secrets in every field kind never reach anything we write: the trace file, a converted
trajectory, the JSON report, the dashboard's data files, the terminal.

The corpus is real-looking key formats (not real keys), each planted in every place a recorded
step can carry text, and in an imported trajectory that was never redacted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_tracebench import TraceRecorder

CORPUS = {
    "openai": "sk-proj-" + "Zq8mN3vR5tY7uI9oP1aS2dF4gH6jK8lQ",
    "openai_legacy": "sk-" + "T3BlbkFJ" + "a9S8d7F6g5H4j3K2l1Z0x9C8",
    "anthropic": "sk-ant-api03-" + "Rt5Yu7Io9Pa1Sd3Fg5Hj7Kl9Zx1Cv3Bn5Mq7We9",
    "github_classic": "ghp_" + "R4nd0mL00k1ngT0k3nV4lu3F0rT3st1ngXyZ9",
    "github_app": "ghs_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "github_fine": "github_pat_11AAAAAAA0bbbbbbbbbbbb_cccccccccccccccccccccccccc",
    "gitlab": "glpat-" + "Xy9Zw8Vu7Ts6Rq5Po4Nm",
    "aws_id": "AKIA" + "QWERTYUIOPASDFGH",
    "aws_session_id": "ASIA" + "ZXCVBNMLKJHGFDSA",
    "google": "AIza" + "SyB-9876543210zyxwvutsrqponmlkjihgf",
    "slack_bot": "xoxb-" + "2222222222-3333333333-AbCdEfGhIjKl",
    "slack_user": "xoxp-" + "4444444444-5555555555-MnOpQrStUvWx",
    "huggingface": "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNm12345678",
    "stripe_live": "sk_live_" + "51H8zzzzzzzzzzzzzzzzzzzz",
    "stripe_restricted": "rk_live_" + "51H8yyyyyyyyyyyyyyyyyyyy",
    "jwt": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ2VudC0xIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
}
# Secrets that only their context identifies.
CONTEXTUAL = {
    "bearer": ("Authorization: Bearer ", "opaqueBearerValue0123456789"),
    "basic": ("Authorization: Basic ", "dXNlcjpwYXNzd29yZDEyMw=="),
    "password_pair": ("DB_PASSWORD=", "correct-horse-battery"),
    "token_pair": ("api_token: ", "tok-value-9f8e7d6c5b"),
    "url_credentials": ("postgres://admin:", "Sup3rS3cretPw"),
}
PRIVATE_KEY = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7\nsecretkeybody\n"
               "-----END RSA PRIVATE KEY-----")


def _texts() -> list[str]:
    """Every secret as it would appear in text: bare, or after its context."""
    out = list(CORPUS.values())
    out += [prefix + value + ("@db:5432/x" if name == "url_credentials" else "")
            for name, (prefix, value) in CONTEXTUAL.items()]
    return out


def _leaks(text: str) -> list[str]:
    found = [name for name, value in CORPUS.items() if value in text]
    found += [name for name, (_, value) in CONTEXTUAL.items() if value in text]
    if "secretkeybody" in text:
        found.append("private_key")
    return found


def _record_everywhere(path: Path, secret: str) -> None:
    rec = TraceRecorder(path, task={"id": "t", "description": f"deploy with {secret}"},
                        agent="a", meta={"env": secret})
    rec.command(f"curl -H 'x: {secret}' https://api", exit_code=1, stdout=f"out {secret}",
                stderr=f"err {secret}")
    rec.read("config.env", content=f"KEY={secret}\n")
    rec.edit("app.py", old="key = None", new=f"key = '{secret}'")
    rec.edit("app.py", diff=f"@@ -1 +1 @@\n-x\n+y = '{secret}'\n")
    rec.test_run(passed=1, failed=1, failing=[f"test_x[{secret}]"], command="pytest",
                 output=f"E  assert {secret}")
    rec.message(f"I will use {secret} now.")
    rec.llm([{"role": "user", "content": f"key is {secret}"}], response=f"ok {secret}",
            input_tokens=3, output_tokens=1)
    rec.step("tool", "http", input={"headers": {"X-Api-Key": secret}, "q": secret},
             output={"echo": secret}, error=f"failed with {secret}", meta={"m": secret})

    @rec.tool
    def fetch(url: str, token: str) -> str:
        raise RuntimeError(f"denied for {token}")

    with pytest.raises(RuntimeError):
        fetch("https://x", token=secret)
    with rec.span("work", input={"secret": secret}) as span:
        span.set_output({"result": secret})
    rec.submit(patch=f"+ key = '{secret}'", answer=secret)
    rec.end(outcome={"resolved": False, "note": f"done {secret}"})


@pytest.mark.parametrize("secret", [*_texts(), PRIVATE_KEY],
                         ids=[*CORPUS, *CONTEXTUAL, "private_key"])
def test_a_secret_in_every_recorded_field_never_reaches_the_file(tmp_path: Path,
                                                                  secret: str) -> None:
    path = tmp_path / "t.jsonl"
    _record_everywhere(path, secret)
    text = path.read_text()
    assert _leaks(text) == []
    assert text.count("[REDACTED]") >= 15
    for line in text.splitlines():
        json.loads(line)  # every line still valid JSON


def _imported_with_secrets(folder: Path) -> Path:
    """A mini-swe-agent trajectory (imports are never redacted on the way in)."""
    secrets = "\n".join(_texts())
    messages = [
        {"role": "system", "content": "You are an agent."},
        {"role": "user", "content": "Fix the bug."},
        {"role": "assistant", "content": "THOUGHT: look at the env\n\n```bash\nenv\n```"},
        {"role": "user", "content": f"<returncode>0</returncode>\n<output>\n{secrets}\n"
                                    f"{PRIVATE_KEY}\n</output>"},
        {"role": "assistant", "content": f"THOUGHT: I see {CORPUS['openai']}; all tests pass "
                                         "now.\n\n```bash\necho COMPLETE_TASK_AND_SUBMIT_"
                                         "FINAL_OUTPUT\n```"},
    ]
    path = folder / "leaky.traj.json"
    path.write_text(json.dumps({"info": {"exit_status": "Submitted", "submission": ""},
                                "messages": messages, "trajectory_format":
                                "mini-swe-agent-1"}))
    return path


def test_secrets_in_an_imported_trajectory_stay_out_of_everything_we_write(
        tmp_path: Path) -> None:
    source = _imported_with_secrets(tmp_path)
    assert len(_leaks(source.read_text())) == len(CORPUS) + len(CONTEXTUAL) + 1
    out = tmp_path / "out"

    def tb(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pytest_tracebench", *args],
                              capture_output=True, text=True, timeout=300, cwd=tmp_path)

    converted = tb("convert", str(source), "-o", str(out / "c.jsonl"))
    atif = tb("convert", str(source), "--to", "atif", "-o", str(out / "c.atif.json"))
    analyzed = tb("analyze", str(source), "-v", "--json", str(out / "r.json"),
                  "--html", str(out / "d.html"))
    one_file = tb("analyze", str(source), "--html", str(out / "single.html"),
                  "--self-contained-html")
    assert one_file.returncode in (0, 1), one_file.stderr
    assert "steps" in (out / "single.html").read_text()  # the steps are in the page
    assert converted.returncode == 0, converted.stderr
    assert atif.returncode == 0, atif.stderr
    assert analyzed.returncode in (0, 1), analyzed.stderr
    written = sorted(p for p in out.rglob("*") if p.is_file())
    assert {p.name for p in written} >= {"c.jsonl", "c.atif.json", "r.json", "d.html",
                                         "report.js", "single.html"}
    assert any(p.parent.name == "traces" for p in written)  # the dashboard's step data
    for path in written:
        assert _leaks(path.read_text()) == [], path.name
    for stream in (converted, atif, analyzed, one_file):
        assert _leaks(stream.stdout + stream.stderr) == []
    # Redaction keeps the evidence readable around the secret.
    assert "DB_PASSWORD=[REDACTED]" in (out / "c.jsonl").read_text()
