"""A corpus of wrong and malicious answers (tests/data/corpus/*.cu): each must fail, or be skipped as unsupported,
with the reason a user needs, and the session must survive all of them in one run, with and without xdist.
Entries whose header ends in `stage: time` need the time stage, which runs on a GPU only: timing/test_time_cheats.py
runs them through the host-clock timing seam on the CPU runtime instead."""

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from helpers.corpus import corpus

CANARY = "cudabench-canary-7d41e0"
# What an answer must never get into a report, a prompt or a cached record: the environment's secret, and the
# content of files outside the answer (/etc/passwd's first line on any Linux).
FORBIDDEN_TEXT = (CANARY.encode(), b"root:x:0", b"root:*:0")


def leaked_into(*roots: Path) -> list[str]:
    """Files under `roots` (reports, the cache's generation, repair and compile records) that hold forbidden text."""
    hits = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and any(text in path.read_bytes() for text in FORBIDDEN_TEXT):
                hits.append(str(path))
    return hits


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "n2"])
def test_corpus_fails_for_the_right_reasons(pytester, suite_copy, shared_cache, xdist, monkeypatch):
    # A secret in the session's environment (leaks_env_secret.cu reads it); no artifact may ever hold it.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
    entries = corpus()
    suite_copy(*sorted({task for _, task, _, _ in entries}))
    samples: dict[str, int] = defaultdict(int)
    records, expected = [], {}
    for name, task, expect, source in entries:
        sample = samples[task]
        samples[task] += 1
        records.append({"task": task, "level": 1, "sample": sample, "content": f"```cuda\n{source}```"})
        expected[(task, sample)] = (name, expect)
    (pytester.path / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    pytester.runpytest_subprocess(
        "--cudabench-model=replay:corpus.jsonl", "--cudabench-levels=1", f"--cudabench-samples={max(samples.values())}",
        f"--cudabench-cache-dir={shared_cache}", "--cudabench-report-dir=out", "--cudabench-timeout=20",
        "--cudabench-seed=3", "-p", "no:cacheprovider", *xdist, "task_suite",
    )
    report = json.loads(next((pytester.path / "out").glob("*.json")).read_text())
    by_key = {(i["task"], i["sample"]): i for i in report["items"]}
    problems = []
    for key, (name, expect) in expected.items():
        item = by_key.get(key)
        if item is None:
            problems.append(f"{name}: no result (the session lost it)")
            continue
        message = item.get("message") or ""
        if expect.startswith("SKIP "):
            if item["outcome"] != "skipped" or not re.search(expect[5:], message):
                problems.append(f"{name}: expected a skip matching {expect[5:]!r}, got {item['outcome']}: {message}")
        elif item["outcome"] != "failed" or not re.search(expect, message):
            problems.append(f"{name}: expected a failure matching {expect!r}, got {item['outcome']} "
                            f"at {item.get('failed_stage')}: {message[:300]}")
    assert not problems, "\n".join(problems)
    assert not Path("/tmp/cudabench-pwned").exists()
    leaks = leaked_into(pytester.path / "out", shared_cache)
    assert not leaks, f"a secret or a file's content reached these artifacts: {leaks}"
    totals = report["totals"]
    assert totals["collected"] == totals["passed"] + totals["failed"] + totals["skipped"] + totals["error"]
    assert totals["error"] == 0, [i for i in report["items"] if i["outcome"] == "error"]
