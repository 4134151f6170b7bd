"""Replay files: lines that cannot be used are reported, naming file and line, never silently ignored or overridden."""

import json

import pytest
from helpers.paths import SUITE

from pytest_cudabench.errors import ConfigError
from pytest_cudabench.generation.models import ReplayModel

XDIST_MODES = {"no-xdist": ["-p", "no:xdist"], "n2": ["-n", "2"]}


def replay_file(tmp_path, records):
    path = tmp_path / "answers.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def line(task="basics/vector_add", level=1, sample=0, content="```cuda\n```"):
    return {"task": task, "level": level, "sample": sample, "content": content}


def test_a_duplicate_answer_is_an_error_naming_both_lines(tmp_path):
    path = replay_file(tmp_path, [line(), line(level=2), line(content="another answer")])
    with pytest.raises(ConfigError, match=r"answers.jsonl:3: a second answer for task basics/vector_add level 1 "
                                          r"sample 0 \(the first is on line 1\)"):
        ReplayModel(path)


@pytest.mark.parametrize("record, message", [
    (line(level=4), r"answers.jsonl:1: level 4 does not exist; levels are 1, 2 and 3"),
    (line(sample=-1), r"answers.jsonl:1: sample -1 is negative"),
])
def test_levels_and_samples_that_cannot_exist_are_errors(tmp_path, record, message):
    with pytest.raises(ConfigError, match=message):
        ReplayModel(replay_file(tmp_path, [record]))


def test_lines_for_tasks_outside_the_suite_are_named(tmp_path):
    model = ReplayModel(replay_file(tmp_path, [line(), line(task="linalg/no_such_task"), line(task="typo/add")]))
    messages = model.unknown_task_lines({SUITE})
    assert len(messages) == 2
    assert messages[0].startswith(f"{model.path}:2: task 'linalg/no_such_task' is not in the suite")
    assert messages[1].startswith(f"{model.path}:3: task 'typo/add'") and messages[1].endswith("the line is ignored")


@pytest.mark.parametrize("mode", XDIST_MODES)
def test_the_plugin_warns_about_unknown_tasks(pytester, suite_copy, shared_cache, mode):
    suite_copy("basics/vector_add")
    path = replay_file(pytester.path, [line(content="no code"), line(task="basics/vectr_add")])
    result = pytester.runpytest_subprocess(f"--cudabench-cache-dir={shared_cache}", "--cudabench-report-dir=out",
                                           "-p", "no:cacheprovider", f"--cudabench-model=replay:{path}",
                                           "--cudabench-levels=1", *XDIST_MODES[mode], "task_suite")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["WARNING cudabench: *answers.jsonl:2: task 'basics/vectr_add' is not in the suite*"])
    assert result.stdout.str().count("is not in the suite") == 1


def test_the_plugin_refuses_a_duplicate_at_start(pytester, suite_copy):
    suite_copy("basics/vector_add")
    path = replay_file(pytester.path, [line(), line()])
    result = pytester.runpytest_subprocess(f"--cudabench-model=replay:{path}", "-p", "no:cacheprovider", "task_suite")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*answers.jsonl:2: a second answer for task basics/vector_add level 1 sample 0*"])


@pytest.mark.parametrize("mode", XDIST_MODES)
def test_a_file_that_answers_none_of_the_items_stops_the_run(pytester, suite_copy, shared_cache, mode):
    """Mistyped task ids or the wrong file would skip every item and pass: stop at start, naming the file and the
    answers it holds."""
    suite_copy("basics/vector_add")
    path = replay_file(pytester.path, [line(task="basics/vectoradd"), line(task="basics/vectoradd", level=2),
                                       line(task="basics/vectoradd", level=3), line(task="linalg/gemm")])
    result = pytester.runpytest_subprocess(f"--cudabench-cache-dir={shared_cache}", "-p", "no:cacheprovider",
                                           f"--cudabench-model=replay:{path}", *XDIST_MODES[mode], "task_suite")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert output.count(f"--cudabench-model=replay:{path} answers none of the 3 collected items") == 1, output
    assert ("it holds 4 answer(s): basics/vectoradd level 1 sample 0, basics/vectoradd level 2 sample 0, "
            "basics/vectoradd level 3 sample 0, ...; the run asks for basics/vector_add level 1 sample 0") in output
    assert not (pytester.path / "reports").exists()
    # One answer among the items is enough to run (the others are skipped as unanswered).
    path.write_text(json.dumps(line()) + "\n")
    result = pytester.runpytest_subprocess(f"--cudabench-cache-dir={shared_cache}", "-p", "no:cacheprovider",
                                           f"--cudabench-model=replay:{path}", *XDIST_MODES[mode], "task_suite")
    result.assert_outcomes(failed=1, skipped=2)
