"""Loading and validating task directories: every mistake names the file and the field."""

import shutil
from pathlib import Path

import pytest
from helpers.paths import SUITE

from pytest_cudabench.errors import TaskError
from pytest_cudabench.tasks.loader import find_task_dirs, load_task


@pytest.fixture
def task_dir(tmp_path) -> Path:
    target = tmp_path / "task_suite" / "basics" / "vector_add"
    shutil.copytree(SUITE / "basics" / "vector_add", target)
    return target


def edit(task_dir: Path, old: str, new: str, file: str = "task.toml") -> None:
    path = task_dir / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))


def load(task_dir: Path):
    return load_task(task_dir, task_dir.parent.parent)


def test_valid_task_loads(task_dir):
    task = load(task_dir)
    assert task.id == "basics/vector_add"
    assert task.signature() == 'extern "C" void solve(const float* a, const float* b, float* c, int n)'
    assert [a.name for a in task.outputs] == ["c"]
    assert len(task.sizes.bench) == 5
    assert task.roofline.work({"n": 10}) == (10.0, 120.0)


@pytest.mark.parametrize(
    "old, new, field, message",
    [
        ('tier = "easy"', 'tier = "trivial"', "tier", "'trivial' is not a tier"),
        ('test = { n = [1, 70000] }', 'test = { n = [0, 70000] }', "sizes.test", "'n' must be a positive integer"),
        ('test = { n = [1, 70000] }', 'test = { n = [500, 70] }', "sizes.test", "low 500 is above high 70"),
        ('dtype = "float32"', 'dtype = "float33"', "args.a", "dtype 'float33' is unknown"),
        ('role = "input"', 'role = "in"', "args.a", "role 'in' is unknown"),
        ('shape = ["n"]', 'shape = ["m"]', "args.a", "unknown size(s) m"),
        ('bytes = "12 * n"', 'bytes = "12 * __import__(n)"', "roofline", "Call is not allowed"),
        ('flops = "n"', 'flops = "n * q"', "roofline", "unknown size(s) q"),
        ('sizes = { n = 3 }', 'sizes = { m = 3 }', "roofline.hand_count[0]", "exactly the free sizes n"),
        ('sizes = { n = 3 }', 'sizes = { n = 0 }', "roofline.hand_count[0]", "'n' must be a positive integer"),
        ('flops = 3', 'flops = "3"', "roofline.hand_count[0]", "'flops' must be"),
        ('bytes = 36', 'bytes = 36\nbites = 1', "roofline.hand_count[0]", "unknown key(s) 'bites'"),
        ('{ n = 89478485 }]', ']', "sizes.bench", "exactly 5 benchmark scales, found 4"),
        ('id = "basics/vector_add"', 'id = "basics/vadd"', "id", "must be 'basics/vector_add'"),
        ('title = "Vector addition"', 'titel = "Vector addition"', None, "unknown key(s) 'titel'"),
        ('level3 = "Compute the vector addition kernel on GPU using CUDA."', 'level3 = " "', "prompts",
         "'level3' is empty"),
        ('domain = "basics"', 'domain = "ai"', "domain", "does not match the directory"),
        ('name = "b"', 'name = "a"', "args.a", "declared twice"),
        ('role = "output"', 'role = "input"', "args", "declares no output"),
        ('bench = [{ n = 256 }', 'bench = [{ m = 256 }', "sizes.bench[0]", "missing size(s) n"),
    ],
)
def test_task_toml_mistakes_name_file_and_field(task_dir, old, new, field, message):
    edit(task_dir, old, new)
    with pytest.raises(TaskError) as exc:
        load(task_dir)
    text = str(exc.value)
    assert "task_suite/basics/vector_add/task.toml" in text
    if field:
        assert f"[{field}]" in text
    assert message in text


def test_invalid_toml_syntax(task_dir):
    edit(task_dir, 'tier = "easy"', 'tier = "easy')
    with pytest.raises(TaskError, match="not valid TOML"):
        load(task_dir)


def test_missing_reference_function(task_dir):
    edit(task_dir, "def reference(a, b, n):", "def ref(a, b, n):", "reference.py")
    with pytest.raises(TaskError, match=r"reference.py: \[reference\] defines no function 'reference'"):
        load(task_dir)


def test_reference_with_wrong_parameters(task_dir):
    edit(task_dir, "def reference(a, b, n):", "def reference(x, y):", "reference.py")
    with pytest.raises(TaskError, match="must accept the argument"):
        load(task_dir)


def test_reference_import_error(task_dir):
    (task_dir / "reference.py").write_text("import numpy as np\nraise RuntimeError('boom')\n")
    with pytest.raises(TaskError, match="failed to import: RuntimeError: boom"):
        load(task_dir)


def test_missing_solution(task_dir):
    (task_dir / "solution.cu").unlink()
    with pytest.raises(TaskError, match="solution.cu: file not found"):
        load(task_dir)


def test_scalar_that_is_not_a_size_needs_a_value(task_dir):
    edit(task_dir, 'name = "n"\ndtype = "int32"', 'name = "alpha"\ndtype = "float32"')
    with pytest.raises(TaskError, match="scalar 'alpha' is not a size name"):
        load(task_dir)


def test_shape_evaluating_to_zero(task_dir):
    edit(task_dir, 'shape = ["n"]', 'shape = ["n - 1"]')
    with pytest.raises(TaskError, match=r"\[args.a\] shape evaluates to \(0,\)"):
        load(task_dir)


def test_builtin_suite_loads_entirely():
    dirs = find_task_dirs(SUITE)
    assert len(dirs) >= 6
    for path in dirs:
        load_task(path, SUITE)


def test_roofline_formula_is_checked_against_the_hand_count(task_dir):
    from pytest_cudabench.validate import validate_task

    assert validate_task(task_dir, run_solution=False).ok
    edit(task_dir, 'bytes = "12 * n"', 'bytes = "8 * n"')
    errors = validate_task(task_dir, run_solution=False).errors
    assert any("[roofline.hand_count[0]] bytes = 8 * n gives 24 at {'n': 3}, the hand count says 36" in e
               for e in errors), errors
    edit(task_dir, "[[roofline.hand_count]]", "[[roofline.hand_countless]]")
    with pytest.raises(TaskError, match="hand_countless"):
        load(task_dir)


def test_a_task_without_hand_count_is_not_valid(task_dir):
    from pytest_cudabench.validate import validate_task

    text = (task_dir / "task.toml").read_text()
    (task_dir / "task.toml").write_text(text[:text.index("\n# n = 3:")] + "\n")
    errors = validate_task(task_dir, run_solution=False).errors
    assert any("no hand_count" in e for e in errors), errors


def test_validate_warns_without_an_edge_case_at_the_low_end(task_dir):
    from pytest_cudabench.validate import validate_task

    assert not any("[sizes.cases]" in w for w in validate_task(task_dir, run_solution=False).warnings)
    text = (task_dir / "task.toml").read_text()
    start = text.index("cases = [")
    (task_dir / "task.toml").write_text(text[:start] + "cases = [{ n = 300 }]" + text[text.index("\n", start):])
    warnings = validate_task(task_dir, run_solution=False).warnings
    assert any("[sizes.cases] no fixed case at the low end" in w for w in warnings), warnings
