"""On a GPU machine `auto` means the GPU runtime: every session and evaluation the tests start pins the CPU runtime
(conftest.py's `pytester` and explicit `runtime=`, checked in every file of the tests tree, folders included), and
GPU behaviour lives in tests marked `gpu`."""

import ast
import re
from pathlib import Path

TESTS = Path(__file__).parent
PROBE = "def test_runtime(pytestconfig):\n    print('runtime=%s' % pytestconfig.getoption('cudabench_runtime'))\n"


def test_sessions_run_the_cpu_runtime_unless_a_test_names_one(pytester):
    pytester.makepyfile(test_probe=PROBE)
    pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider").stdout.fnmatch_lines(["*runtime=cpu*"])
    pytester.runpytest("-s", "-p", "no:cacheprovider").stdout.fnmatch_lines(["*runtime=cpu*"])
    named = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", "--cudabench-runtime=auto")
    named.stdout.fnmatch_lines(["*runtime=auto*"])


def test_every_settings_and_popen_in_the_tests_names_a_runtime():
    unnamed = []
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text())
        where = path.relative_to(TESTS)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "Settings" and not any(k.arg == "runtime" for k in node.keywords):
                unnamed.append(f"{where}:{node.lineno} Settings(...) without runtime=")
            if name == "popen" and "cudabench-model" in ast.unparse(node) and \
                    not re.search(r"--cudabench-runtime", ast.unparse(node)):
                unnamed.append(f"{where}:{node.lineno} a pytest process without --cudabench-runtime")
    assert not unnamed, "\n".join(unnamed)


def test_the_gpu_marker_is_registered():
    text = (TESTS.parent / "pyproject.toml").read_text()
    assert re.search(r'markers = \[[^]]*"gpu: ', text)
