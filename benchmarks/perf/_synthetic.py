"""Synthetic but realistic traces for performance runs: read, edit, test, script, claim cycles
with failing and passing runs, errors and repeats, written through the real recorder."""

from __future__ import annotations

from pathlib import Path

from pytest_tracebench import TraceRecorder

OUTPUT = "collected 24 items\n\ntests/test_mod.py ......F.......\n" + "log line\n" * 20


def write_trace(path: Path, steps: int) -> Path:
    rec = TraceRecorder(path, task=f"synthetic-{steps}", agent="synthetic", redact=False)
    n = 0
    while n < steps:
        k = n // 10
        module = f"src/pkg/module_{k % 97}.py"
        rec.message(f"Plan {k}: the bug is probably in {module}; I will read it and fix it.")
        rec.read(module, content=f"def f_{k}(x):\n    return x + {k}\n" * 5)
        rec.command(f"grep -rn 'f_{k}' src", exit_code=0, stdout=f"{module}:1:def f_{k}(x):")
        rec.edit(module, old=f"return x + {k}", new=f"return x + {k + 1}")
        failing = k % 3 == 0
        rec.test_run(passed=20, failed=1 if failing else 0,
                     failing=[f"tests/test_mod.py::test_{k % 7}"] if failing else [],
                     command="pytest -q tests/test_mod.py", output=OUTPUT)
        rec.command("python reproduce.py", exit_code=1 if k % 5 == 0 else 0,
                    stdout="Traceback (most recent call last):\nValueError: bad value"
                    if k % 5 == 0 else "ok")
        rec.message("All tests pass now." if not failing else "One test still fails.")
        rec.command("ls src/pkg", exit_code=0, stdout="module_1.py\nmodule_2.py")
        rec.llm([{"role": "user", "content": "continue"}], response="ok",
                input_tokens=1200, output_tokens=80)
        rec.read("README.md", content="docs")
        n += 10
    rec.submit("diff --git a/x b/x")
    rec.end()
    return path
