"""Generation throughput: 64 items against the fake chat-completions server with 0.5 s latency per request.

Targets: with concurrency 8, a cold run finishes within 1.3x of the ideal (64 / 8 x 0.5 s = 4 s; the first request
goes alone until the server has accepted the key, so ~4.5 s is expected); a warm-cache
rerun makes zero requests. Prints the numbers; exits non-zero if a target is missed.

    python benchmarks/bench_generation.py [--items 64] [--latency 0.5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from helpers.fake_openai_server import FAKE_KEY, FakeOpenAIServer  # noqa: E402

from pytest_cudabench.config import Settings  # noqa: E402
from pytest_cudabench.generation.models import GenerationRequest  # noqa: E402
from pytest_cudabench.generation.prompts import messages, prompt_hash  # noqa: E402
from pytest_cudabench.generation.remote import create_remote_model  # noqa: E402
from pytest_cudabench.generation.service import GenerationService  # noqa: E402
from pytest_cudabench.tasks.loader import load_task  # noqa: E402

TARGET_RATIO = 1.3


def run_once(spec: str, settings: Settings, requests: list[GenerationRequest]) -> tuple[float, int]:
    model = create_remote_model(spec, settings.project)
    service = GenerationService(model, settings)
    start = time.perf_counter()
    service.prefetch(requests)
    answers = [service.get(r) for r in requests]
    elapsed = time.perf_counter() - start
    service.close()
    assert all("```" in a.content for a in answers)
    return elapsed, service.requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    task = load_task(REPO / "task_suite" / "basics" / "vector_add", REPO / "task_suite")
    msgs = messages(task, 1)
    requests = [GenerationRequest(task=task, level=1, sample=i, messages=msgs, prompt_hash=prompt_hash(msgs))
                for i in range(args.items)]
    os.environ["CUDABENCH_BENCH_KEY"] = FAKE_KEY
    ideal = args.items / args.concurrency * args.latency
    ok = True
    with tempfile.TemporaryDirectory() as cache, FakeOpenAIServer(latency_s=args.latency) as server:
        project = {"models": {"bench": {"base_url": server.base_url, "model": "fake-model",
                                        "api_key_env": "CUDABENCH_BENCH_KEY"}}}
        settings = Settings(model="bench", concurrency=args.concurrency, cache_dir=cache, run_id="bench-cold",
                            project=project)
        cold, made = run_once("bench", settings, requests)
        ratio = cold / ideal
        print(f"cold: {args.items} items, concurrency {args.concurrency}, latency {args.latency} s: "
              f"{cold:.3f} s (ideal {ideal:.3f} s) ratio {ratio:.3f} (target <= {TARGET_RATIO}); "
              f"{server.request_count} requests, max {server.max_in_flight} in flight")
        if ratio > TARGET_RATIO or server.request_count != args.items:
            ok = False
        server.reset()
        warm_settings = Settings(model="bench", concurrency=args.concurrency, cache_dir=cache, run_id="bench-warm",
                                 project=project)
        warm, _ = run_once("bench", warm_settings, requests)
        print(f"warm: {warm:.3f} s, {server.request_count} requests (target 0)")
        if server.request_count != 0:
            ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
