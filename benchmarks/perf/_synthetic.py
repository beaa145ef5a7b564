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


def write_corpus(folder: Path, traces: int, steps: int) -> Path:
    """``traces`` files of ``steps`` steps: one recorded trace, copied with a fresh trace id
    and task id each (recording 100,000 of them would take minutes of set-up)."""
    folder.mkdir(parents=True, exist_ok=True)
    template = write_trace(folder / "template.tmp", steps).read_text()
    (folder / "template.tmp").unlink()
    header, _, rest = template.partition("\n")
    trace_id = header.split('"trace_id":"', 1)[1].split('"', 1)[0]
    task = f'"id":"synthetic-{steps}"'
    for n in range(traces):
        head = header.replace(trace_id, f"{n:032x}").replace(task, f'"id":"synthetic-{n}"')
        (folder / f"run_{n:06d}.jsonl").write_text(head + "\n" + rest)
    return folder
