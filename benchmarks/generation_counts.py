"""Counts that must stay true, against the fake chat-completions server: a fresh remote run over 3 tasks with -n 2
(server requests vs. "requested"/"cached" in the summary and run.usage, then a rerun), and the requests a wrong key
costs over 15 items, without and with -n 2. Prints the numbers (no targets: the tests assert them).

    python benchmarks/generation_counts.py [CHECKOUT]

CHECKOUT (default: this repository) gives the task suite and tests/helpers/fake_openai_server.py; the pytest_cudabench that
runs is the one Python imports (PYTHONPATH), so the same script measures another checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TASKS = ("basics/vector_add", "basics/reverse", "basics/matrix_copy")
WRONG_KEY = "sk-wrong-key-000000000000"


def project(checkout: Path, tasks: tuple[str, ...]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="generation-counts-"))
    for task in tasks:
        shutil.copytree(checkout / "task_suite" / task, root / "task_suite" / task)
    return root


def run(root: Path, model: str, key: str, *args: str) -> tuple[str, dict]:
    env = dict(os.environ, OPENAI_API_KEY=key)
    command = [sys.executable, "-m", "pytest", "task_suite", f"--cudabench-model={model}", "-p", "no:cacheprovider",
               "--cudabench-progress=0", *args]
    out = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    report = max((root / "reports").glob("*.json"), key=lambda p: p.stat().st_mtime)
    return out.stdout + out.stderr, json.loads(report.read_text())


def main() -> None:
    checkout = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
    # tests/helpers/ holds it; a checkout from before the tests tree had folders holds it in tests/.
    sys.path[:0] = [str(checkout / "tests" / "helpers"), str(checkout / "tests")]
    from fake_openai_server import FAKE_KEY, FakeOpenAIServer

    print("== usage counts: 3 tasks x level 1, -n 2, fresh cache, then a rerun ==")
    root = project(checkout, TASKS)
    with FakeOpenAIServer(latency_s=0.3) as server:
        (root / "pyproject.toml").write_text(
            f'[tool.cudabench.models.fake]\nbase_url = "{server.base_url}"\nmodel = "fake-model"\n'
            'api_key_env = "OPENAI_API_KEY"\nprice_input = 2.0\nprice_output = 10.0\n')
        for name in ("fresh", "rerun"):
            server.reset()
            out, report = run(root, "fake", FAKE_KEY, "--cudabench-levels=1", "-n", "2")
            usage = {model: {k: v for k, v in t.items() if k in ("requests", "cached", "http_requests", "new_cost_usd")}
                     for model, t in report["run"]["usage"].items()}
            cached = [item["generation"]["cached"] for item in report["items"] if item.get("generation")]
            print(f"{name}: server requests {server.request_count}; items' generation.cached {cached}; "
                  f"run.usage {usage}")
            for line in out.splitlines():
                if line.startswith(("tokens (", "requests (")):
                    print("   ", line)

    for xdist in ((), ("-n", "2")):
        root = project(checkout, TASKS[:1])
        with FakeOpenAIServer(latency_s=0.3) as server:
            out, report = run(root, f"openai:fake-model@{server.base_url}", WRONG_KEY, "--cudabench-levels=1",
                              "--cudabench-samples=15", *xdist)
            print(f"== a wrong key, 15 items, {' '.join(xdist) or 'one process'}: server requests "
                  f"{server.request_count}; errors_by_kind {report['totals'].get('errors_by_kind')}")
            print("   ", next((line for line in out.splitlines() if "401" in line), "")[:300])


if __name__ == "__main__":
    main()
