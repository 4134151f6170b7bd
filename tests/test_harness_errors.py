"""Errors that are not the answer's: a broken task reference, a child interpreter that cannot start. Each is one
short message naming the file, function or stage, and the item is an error, never a wrong answer."""

import json
import shutil

import pytest
from helpers.paths import SUITE

BROKEN_REFERENCES = {
    "raises": 'def reference(a, b, n):\n    raise ValueError("boom in the reference")\n',
    "wrong_shape": "import numpy as np\n\ndef reference(a, b, n):\n    return np.zeros(n + 3, np.float32)\n",
    "wrong_dtype": "import numpy as np\n\ndef reference(a, b, n):\n    return np.array(['x'] * n)\n",
}


def test_broken_reference_is_one_short_task_error(pytester, shared_cache):
    for name, code in BROKEN_REFERENCES.items():
        task = pytester.path / "task_suite" / "basics" / name
        shutil.copytree(SUITE / "basics" / "vector_add", task)
        (task / "reference.py").write_text(code)
        toml = task / "task.toml"
        toml.write_text(toml.read_text().replace('"basics/vector_add"', f'"basics/{name}"'))
    result = pytester.runpytest_subprocess(f"--cudabench-cache-dir={shared_cache}", "--cudabench-report-dir=out",
                                           "-p", "no:cacheprovider", "--cudabench-model=reference",
                                           "--cudabench-levels=1", "--cudabench-runtime=cpu", "task_suite")
    out = result.stdout.str()
    result.stdout.fnmatch_lines([
        "*stage 'execute' could not judge the answer: *raises/reference.py: [[]reference[]] reference() failed at "
        "sizes*ValueError: boom in the reference",
        "*stage 'execute' could not judge the answer: *wrong_dtype/reference.py: [[]reference[]] reference() "
        "returned c of dtype <U1; `c` is float32*",
        "*stage 'execute' could not judge the answer: *wrong_shape/reference.py: [[]reference[]] reference() "
        "returned c with * elements*",
    ])
    assert "Traceback" not in out and "_pytest/" not in out and "inputs.py" not in out
    assert len(out.splitlines()) < 80, out  # was ~900 lines per item
    report = json.loads(next((pytester.path / "out").glob("*.json")).read_text())
    for item in report["items"]:
        assert item["outcome"] == "error" and item["failed_stage"] == "execute", item
        assert item["message"].startswith("task error: "), item["message"]
        assert item["stages"]["execute"]["status"] == "error"


def test_a_child_interpreter_that_cannot_start_is_a_harness_error(tmp_path, shared_cache, monkeypatch):
    """PYTHONHOME is one of the variables the child inherits: a wrong one stops its interpreter before it reaches
    the answer. That is the harness's fault, never "the task's solution fails at execute"."""
    from pytest_cudabench.config import Settings
    from pytest_cudabench.errors import HarnessError
    from pytest_cudabench.generation.models import GenerationRequest, ReferenceModel
    from pytest_cudabench.generation.prompts import messages, prompt_hash
    from pytest_cudabench.pipeline import Evaluation
    from pytest_cudabench.tasks.loader import load_task

    task = load_task(SUITE / "basics" / "vector_add", SUITE)
    msgs = messages(task, 1)
    answer = ReferenceModel().generate(GenerationRequest(task, 1, 0, msgs, prompt_hash(msgs))).content
    settings = Settings(model="reference", seed=5, cache_dir=str(shared_cache), runtime="cpu", rootdir=str(tmp_path))
    evaluation = Evaluation(task, 1, 0, settings)
    monkeypatch.setenv("PYTHONHOME", str(tmp_path / "no-such-python-home"))
    with pytest.raises(HarnessError) as caught:
        evaluation.run(answer)
    message = str(caught.value)
    assert "the child interpreter" in message and "before it was ready to call the answer" in message, message
    assert "PYTHONHOME" in message and "fail" not in message.split("\n")[0].split("ended")[0]
    result = evaluation.result
    assert result["failed_stage"] == "execute" and result["message"].startswith("harness error: ")
    assert result["stages"]["execute"]["status"] == "error" and result["correct"] is None
