"""Shards (--cudabench-shard=K/N): the split of tasks (a partition, deterministic, balanced by item count, whole
tasks), the check `merge` makes on sharded reports, and the option end to end with and without xdist."""

import json
import random
import subprocess
import sys

import pytest

from pytest_cudabench.errors import ConfigError
from pytest_cudabench.reporting.shards import check_shards, merged_shards
from pytest_cudabench.tasks.shards import parse_shard, shard_tasks, split_tasks

# The shape of a real suite: domains of tasks with one item per level and sample, a few with more.
COUNTS = {f"{domain}/task{i}": random.Random(f"{domain}{i}").choice([3, 3, 3, 6, 9])
          for domain in ("ai", "basics", "linalg", "reduction", "signal") for i in range(23)}


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16])
def test_shards_partition_the_tasks(n):
    shards = split_tasks(COUNTS, n)
    assert len(shards) == n
    every = [task for shard in shards for task in shard]
    assert sorted(every) == sorted(COUNTS)  # the union is the whole, and no task is in two shards
    assert len(every) == len(set(every))
    assert shards == [shard_tasks(COUNTS, k, n) for k in range(1, n + 1)]


@pytest.mark.parametrize("n", [2, 3, 7, 16])
def test_shards_are_balanced_by_item_count(n):
    loads = [sum(COUNTS[t] for t in shard) for shard in split_tasks(COUNTS, n)]
    # Longest-processing-time first: no shard exceeds another by more than the largest task.
    assert max(loads) - min(loads) <= max(COUNTS.values())
    assert sum(loads) == sum(COUNTS.values())


def test_the_split_depends_only_on_the_tasks_not_on_order_or_process():
    shuffled = dict(random.Random(1).sample(sorted(COUNTS.items()), len(COUNTS)))
    assert split_tasks(shuffled, 4) == split_tasks(COUNTS, 4)
    # Another interpreter with another string-hash salt computes the same split (no use of hash()).
    code = ("import json,sys; from pytest_cudabench.tasks.shards import split_tasks; "
            "print(json.dumps(split_tasks(json.loads(sys.argv[1]), 4)))")
    for salt in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code, json.dumps(COUNTS)], capture_output=True, text=True,
                             check=True, env={"PYTHONHASHSEED": salt, "PATH": "", **_pythonpath()}).stdout
        assert json.loads(out) == split_tasks(COUNTS, 4)


def _pythonpath() -> dict[str, str]:
    import os

    return {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}


def test_more_shards_than_tasks_leaves_some_empty():
    assert split_tasks({"a": 1, "b": 2}, 3) == [["b"], ["a"], []]


@pytest.mark.parametrize("text, expected", [("1/1", (1, 1)), ("2/4", (2, 4)), (" 4/4 ", (4, 4))])
def test_parse_shard(text, expected):
    assert parse_shard("--cudabench-shard", text) == expected


@pytest.mark.parametrize("text", ["0/4", "5/4", "2", "2/", "a/b", "-1/4", "2/4/8", ""])
def test_parse_shard_refuses_what_is_not_k_of_n(text):
    with pytest.raises(ConfigError, match=r"--cudabench-shard=.*: expected K/N with 1 <= K <= N"):
        parse_shard("--cudabench-shard", text)


def report(index=None, count=None, tasks=None, run_id="r"):
    shard = None if index is None else {"index": index, "count": count, "tasks": tasks}
    return {"run": {"id": run_id, "shard": shard}, "items": []}


def test_check_shards_finds_the_missing_ones():
    reports = [report(1, 4, ["a"]), report(3, 4, ["c"])]
    assert check_shards(reports, ["one.json", "three.json"]) == ([], [2, 4])
    assert check_shards([report(k, 2, [str(k)]) for k in (1, 2)]) == ([], [])


def test_check_shards_refuses_the_same_shard_twice():
    problems, missing = check_shards([report(1, 2, ["a"]), report(1, 2, ["a"])], ["x.json", "y.json"])
    assert problems == ["shard 1/2 is in 2 reports (x.json, y.json); keep one (e.g. the rerun) and merge again"]
    assert missing == [2]


def test_check_shards_refuses_different_splits_and_mixtures():
    problems, missing = check_shards([report(1, 2), report(2, 3)], ["a.json", "b.json"])
    assert len(problems) == 1 and "split different ways (of 2: a.json; of 3: b.json)" in problems[0]
    assert missing == []
    problems, _ = check_shards([report(1, 2, ["a"]), report()], ["a.json", "whole.json"])
    assert problems and problems[0].startswith("whole.json: not a shard")
    problems, _ = check_shards([report(1, 2, ["a", "b"]), report(2, 2, ["b"])], ["a.json", "b.json"])
    assert problems and "share task(s) b" in problems[0]


def test_unsharded_reports_are_no_concern_of_check_shards():
    assert check_shards([report(), report()]) == ([], [])


def test_merged_shards_says_what_a_merged_report_holds():
    assert merged_shards([report(3, 4, ["c"]), report(1, 4, ["a"])]) == {"count": 4, "indexes": [1, 3],
                                                                         "missing": [2, 4]}
    assert merged_shards([report(), report()]) is None
    assert merged_shards([report(1, 2), report(1, 3)]) is None


# --- the option, end to end ---------------------------------------------------------------------------------------

TASKS = ("basics/vector_add", "basics/reverse")


def run_shard(pytester, shared_cache, shard, out, *args):
    return pytester.runpytest_subprocess(
        "--cudabench-model=reference", "--cudabench-runtime=cpu", "--cudabench-levels=1", "--cudabench-seed=5",
        f"--cudabench-shard={shard}", f"--cudabench-cache-dir={shared_cache}", f"--cudabench-report-dir={out}",
        "-p", "no:cacheprovider", *args, "task_suite")


def load_report(pytester, out) -> dict:
    (path,) = sorted((pytester.path / out).glob("*.json"))
    return json.loads(path.read_text())


@pytest.mark.parametrize("xdist", [["-p", "no:xdist"], ["-n", "2"]], ids=["no-xdist", "n2"])
def test_two_shards_partition_the_run_and_record_their_shard(pytester, suite_copy, shared_cache, xdist):
    suite_copy(*TASKS)
    first = run_shard(pytester, shared_cache, "1/2", "one", *xdist)
    second = run_shard(pytester, shared_cache, "2/2", "two", *xdist)
    reports = [load_report(pytester, "one"), load_report(pytester, "two")]
    expected = split_tasks({task: 1 for task in TASKS}, 2)
    for result, rep, tasks in zip((first, second), reports, expected, strict=True):
        result.assert_outcomes(passed=len(tasks))
        assert rep["run"]["shard"]["tasks"] == tasks
        assert sorted(item["task"] for item in rep["items"]) == tasks
        assert rep["totals"]["collected"] == rep["run"]["collected_items"] == len(tasks)
    # Every process deselects the other shard's items; under xdist the workers do, and report what they kept.
    first.stdout.fnmatch_lines(["cudabench: shard 1/2 *", f"*{len(expected[1])} deselected*" if xdist[0] == "-p"
                                else f"2 workers [[]{len(expected[0])} item*"])
    assert [rep["run"]["shard"]["index"] for rep in reports] == [1, 2]
    assert {rep["run"]["shard"]["count"] for rep in reports} == {2}
    assert sorted(item["task"] for rep in reports for item in rep["items"]) == sorted(TASKS)
    assert check_shards(reports) == ([], [])


def test_a_bad_shard_is_a_usage_error_naming_the_option(pytester, suite_copy, shared_cache):
    suite_copy("basics/vector_add")
    result = run_shard(pytester, shared_cache, "3/2", "out", "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--cudabench-shard=3/2: expected K/N with 1 <= K <= N*"])


def test_cudabench_set_tasks_keep_their_scales_in_one_shard(pytester):
    from helpers.cudabench_set_rows import affine_rows, always_f_row, histogram_row, write_rows

    # Affine has two scales (rows), the others one: the split is by task, balanced by items (2 | 1 + 1).
    path = write_rows(pytester.path / "myset.jsonl", [*affine_rows(0), histogram_row(2), always_f_row(3)])
    collected = []
    for shard in ("1/2", "2/2"):
        result = pytester.runpytest_subprocess(str(path), "--cudabench-model=reference", "--cudabench-levels=1",
                                               f"--cudabench-shard={shard}", "--collect-only", "-q",
                                               "-p", "no:cacheprovider")
        collected.append(sorted(line.split("::")[1] for line in result.stdout.lines if "::level1" in line))
    assert collected == [["Affine", "Affine"], ["Compare_Says_F", "Int_Histogram"]]


def test_a_shard_keeps_its_tasks_and_records_them():
    from pytest_cudabench.tasks.shards import Shard

    items = ["a", "a", "b", "c", "c", "c"]  # a task id per item
    kept = [Shard(k, 2).kept(items) for k in (1, 2)]
    assert kept[0] | kept[1] == {"a", "b", "c"} and not kept[0] & kept[1]
    assert kept == [set(shard_tasks({"a": 2, "b": 1, "c": 3}, k, 2)) for k in (1, 2)]
    assert Shard(2, 2).record(None) == {"index": 2, "count": 2, "tasks": None}
    assert Shard(2, 2).header_line().startswith("cudabench: shard 2/2 ")
