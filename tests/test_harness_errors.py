"""Errors that are not the answer's: a broken task reference, a child interpreter that cannot start. Each is one
short message naming the file, function or stage, and the item is an error, never a wrong answer."""

import json
import shutil

from tests.conftest import SUITE

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
