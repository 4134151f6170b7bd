"""CUDABench-Set files run through the plugin in a pytester subprocess, and what their report says per row."""

from __future__ import annotations

import json
from pathlib import Path


def run_set(pytester, path: Path, *args: str):
    return pytester.runpytest_subprocess(
        str(path), "--cudabench-model=reference", "--cudabench-runtime=cpu", "--cudabench-levels=1",
        f"--cudabench-cache-dir={pytester.path / 'cache'}", "-p", "no:cacheprovider", "-rA", *args)


def report(pytester) -> dict:
    (path,) = (pytester.path / "reports").glob("*.json")
    return json.loads(path.read_text())


def items_by_task(rep: dict) -> dict[str, dict]:
    return {item["set"]["task"] + f"/scale{item['set']['scale']}": item for item in rep["items"]}
