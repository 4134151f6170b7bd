"""The package reads as its stage list and imports only downward: a module may import from its own package or from
a lower layer, never from a higher one, wherever the import stands (at the top or inside a function); no modules
import each other in a cycle at import time; and an import of our own modules inside a function says why it is
there (`# local import: <why>` on its line or the line before, or before the run of import statements it is in)."""

import ast
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

import pytest_cudabench

PACKAGE_DIR = Path(pytest_cudabench.__file__).parent
# Lowest first: a module may import its own layer's package and the layers listed before it. A top-level module is
# its own layer; a subpackage is one layer with everything inside it.
LAYERS = [
    # the schema and the protocol, importing nothing of ours: errors, the child's messages, one average, the record
    # of a run
    "errors", "protocol", "averages", "results",
    # plumbing and what a run is about: atomic files, the task suite, the run's settings
    "files", "tasks", "config",
    # the answer's source: extraction, the lexer, static checks, nvcc
    "source",
    # the stages' machinery: asking models, measuring on a GPU, running untrusted answers in children
    "generation", "timing", "execution",
    # the evaluations: the kernel pipeline, its compile-ahead pool, the CUDABench-Set family
    "pipeline", "compile_ahead", "cudabench_set",
    # reports, run directories and leaderboards, over every family's records
    "reporting",
    # the pytest layer's domain facade: item families, settings from options, pacing, workers (no pytest in it)
    "session",
    # the entry points: the command-line tools and the pytest layer
    "validate", "doctor", "plugin", "__main__",
]
# Upward imports tolerated while a move is under way, "<module> imports <module>" as test_imports_only_go_down words
# it; empty since issue 23 landed. An entry whose import is gone fails test_the_lists_for_now_hold_only_what_is_still_there.
UPWARD_FOR_NOW: set[str] = set()
# Files whose function-local imports of our own modules may go without a `# local import:` reason while they are
# being rewritten; empty since issue 23 landed.
LOCAL_IMPORTS_UNREVIEWED: set[str] = set()
LOCAL_IMPORT_REASON = "# local import:"


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


class Import(NamedTuple):
    target: str  # the module imported (a module of a `from package import module`, else the package)
    line: int
    in_function: bool  # runs when the function does, not when the module is imported
    first_line: int  # the first line of the run of import statements this one stands in


def imports_of(path: Path, module: str) -> list[Import]:
    """Every import of our own package in `path`, at the top, in a class body or inside a function."""
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        first_line, previous_was_import = 0, False
        for child in ast.iter_child_nodes(node):
            is_import = isinstance(child, (ast.Import, ast.ImportFrom))
            if is_import and not previous_was_import:
                first_line = child.lineno
            previous_was_import = is_import
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    anchor = base[: len(base) - child.level + 1]
                    target = ".".join(anchor + ([child.module] if child.module else []))
                elif child.module and child.module.split(".")[0] == "pytest_cudabench":
                    target = child.module
                else:
                    continue
                for alias in child.names:
                    candidate = f"{target}.{alias.name}"
                    is_module = (PACKAGE_DIR.parent / (candidate.replace(".", "/") + ".py")).exists() or (
                        PACKAGE_DIR.parent / candidate.replace(".", "/")).is_dir()
                    found.append(Import(candidate if is_module else target, child.lineno, in_function, first_line))
            elif isinstance(child, ast.Import):
                found.extend(Import(a.name, child.lineno, in_function, first_line) for a in child.names
                             if a.name.split(".")[0] == "pytest_cudabench")
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(path.read_text()), False)
    return found


def function_local_imports() -> list[tuple[Path, int, str, bool]]:
    """(file, line, imported module, has a `# local import:` reason) for each import of our own modules inside a
    function, one per import statement. A reason before a run of import statements covers the run."""
    found = []
    for module, path in our_modules().items():
        lines = path.read_text().splitlines()
        seen = set()
        for imp in imports_of(path, module):
            if imp.in_function and imp.line not in seen:
                seen.add(imp.line)
                around = "".join(lines[n - 1] for n in {imp.line, imp.line - 1, imp.first_line - 1} if n >= 1)
                found.append((path, imp.line, imp.target, LOCAL_IMPORT_REASON in around))
    return found


def our_modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def test_every_module_has_a_layer():
    unplaced = {layer_of(m) for m in our_modules()} - set(LAYERS) - {""}
    assert not unplaced, f"add these to LAYERS in {__file__}: {sorted(unplaced)}"


def test_imports_only_go_down():
    upward = []
    for module, path in our_modules().items():
        source_layer = layer_of(module)
        if not source_layer:
            continue
        for imp in imports_of(path, module):
            target_layer = layer_of(imp.target)
            if target_layer and LAYERS.index(target_layer) > LAYERS.index(source_layer) and (
                    f"{module} imports {imp.target}" not in UPWARD_FOR_NOW):
                where = "inside a function" if imp.in_function else "at import time"
                upward.append(f"{module} imports {imp.target} ({source_layer} -> {target_layer}, line {imp.line}, "
                              f"{where})")
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    modules = our_modules()
    graph = {m: {imp.target for imp in imports_of(p, m) if not imp.in_function and imp.target in modules
                 and imp.target != m} for m, p in modules.items()}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(cycles)


def fake_package(tmp_path: Path, monkeypatch, files: dict[str, str]) -> None:
    """A stand-in package of `files` (path under the package: source) that the checks read instead of ours."""
    fake = tmp_path / "pytest_cudabench"
    for name, source in {"__init__.py": "", **files}.items():
        (fake / name).parent.mkdir(parents=True, exist_ok=True)
        (fake / name).write_text(source)
        if name.count("/"):
            (fake / name).with_name("__init__.py").touch()
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE_DIR", fake)


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    """The checker itself must be able to fail: a lower layer importing a higher one is reported."""
    fake_package(tmp_path, monkeypatch, {"reporting/html.py": "", "tasks/loader.py": "from ..reporting import html\n"})
    with pytest.raises(AssertionError, match="pytest_cudabench.tasks.loader imports pytest_cudabench.reporting.html"):
        test_imports_only_go_down()


def test_the_check_sees_an_upward_import_inside_a_function(tmp_path, monkeypatch):
    fake_package(tmp_path, monkeypatch, {
        "reporting/html.py": "",
        "tasks/loader.py": "def load():\n    # local import: a reason does not make it go down\n"
                           "    from ..reporting.html import render\n"})
    with pytest.raises(AssertionError, match=r"tasks.loader imports pytest_cudabench.reporting.html \(tasks -> "
                                             r"reporting, line 3, inside a function\)"):
        test_imports_only_go_down()


def test_function_local_imports_say_why():
    """An import of our own modules inside a function hides a dependency from the reader and from the cycle check
    (which follows import-time imports): it needs a reason (a cycle, an optional heavy dependency, the cost of
    importing on the command line's or a sandboxed child's path)."""
    unexplained = [f"{path.relative_to(PACKAGE_DIR)}:{line}: imports {target}"
                   for path, line, target, explained in function_local_imports()
                   if not explained and path.relative_to(PACKAGE_DIR).as_posix() not in LOCAL_IMPORTS_UNREVIEWED]
    assert not unexplained, ("move these imports to the top of their module, or say why one stays with "
                             f"'{LOCAL_IMPORT_REASON} <why>' on its line or the line before:\n"
                             + "\n".join(unexplained))


def test_the_local_import_rule_sees_an_import_without_a_reason(tmp_path, monkeypatch):
    fake_package(tmp_path, monkeypatch, {
        "files.py": "",
        "tasks/loader.py": "def load():\n    # local import: the reason\n    from .. import files\n\n\n"
                           "def other():\n    from ..files import publish\n"})
    with pytest.raises(AssertionError, match="tasks/loader.py:7: imports pytest_cudabench.files") as failure:
        test_function_local_imports_say_why()
    assert "loader.py:3" not in str(failure.value)


def test_a_local_import_reason_covers_the_run_of_imports_below_it_only(tmp_path, monkeypatch):
    fake_package(tmp_path, monkeypatch, {
        "files.py": "", "config.py": "",
        "tasks/loader.py": "def load():\n    # local import: the reason\n    from .. import files\n"
                           "    from .. import config\n    x = 1\n    from ..files import publish\n"})
    with pytest.raises(AssertionError, match="tasks/loader.py:6: imports pytest_cudabench.files") as failure:
        test_function_local_imports_say_why()
    assert "loader.py:3" not in str(failure.value) and "loader.py:4" not in str(failure.value)


def test_the_lists_for_now_hold_only_what_is_still_there():
    """UPWARD_FOR_NOW and LOCAL_IMPORTS_UNREVIEWED only shrink: an entry whose import is gone must go too."""
    modules = our_modules()
    upward = {f"{m} imports {imp.target}" for m, p in modules.items() for imp in imports_of(p, m)}
    unreviewed = {path.relative_to(PACKAGE_DIR).as_posix() for path, _, _, explained in function_local_imports()
                  if not explained}
    assert UPWARD_FOR_NOW - upward == set() and LOCAL_IMPORTS_UNREVIEWED - unreviewed == set()


def test_every_import_of_our_own_modules_resolves():
    """Imports inside functions run only on some paths (a GPU, a checker task): a moved module must not leave one
    pointing nowhere."""
    missing = []
    for module, path in our_modules().items():
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            target = PACKAGE_DIR.parent.joinpath(*base[: len(base) - node.level + 1], *(node.module or "").split("."))
            if not (target.with_suffix(".py").is_file() or (target / "__init__.py").is_file()):
                missing.append(f"{module} line {node.lineno}: no module {node.module!r}")
            elif (target / "__init__.py").is_file():
                init = (target / "__init__.py").read_text()
                missing += [f"{module} line {node.lineno}: {alias.name!r} is not in {node.module or '.'!r}"
                            for alias in node.names if not (target / f"{alias.name}.py").is_file()
                            and not (target / alias.name).is_dir() and alias.name not in init]
    assert not missing, "\n".join(missing)


def test_exceptions_are_defined_in_errors():
    """Every exception class of the package is defined in errors.py (modules that raise one re-export it)."""
    elsewhere = []
    for module, path in our_modules().items():
        if module == "pytest_cudabench.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(base, "id", getattr(base, "attr", "")).endswith(("Error", "Exception", "Failure", "Skip"))
                    or getattr(base, "id", "") in ("CudabenchError", "ModelError") for base in node.bases):
                elsewhere.append(f"{module}.{node.name}")
    assert not elsewhere, f"define these in errors.py: {elsewhere}"


def test_moved_exceptions_keep_their_old_import_paths():
    from pytest_cudabench import errors
    from pytest_cudabench.execution.cpu_runtime import CpuBuildError, CpuRuntimeUnsupported
    from pytest_cudabench.generation.models import NoAnswer
    from pytest_cudabench.generation.remote import RequestCancelled
    from pytest_cudabench.reporting.runs import MergeError
    from pytest_cudabench.tasks.formulas import FormulaError
    from pytest_cudabench.timing.measure import CudaError

    for cls in (CpuBuildError, CpuRuntimeUnsupported, NoAnswer, RequestCancelled, MergeError, FormulaError, CudaError):
        assert getattr(errors, cls.__name__) is cls and issubclass(cls, errors.CudabenchError)
    assert issubclass(MergeError, ValueError) and issubclass(FormulaError, ValueError)
    assert issubclass(CudaError, RuntimeError)


if __name__ == "__main__":  # python tests/test_layering.py: the function-local imports, with or without a reason
    local = function_local_imports()
    for path, line, target, explained in local:
        print(f"{path.relative_to(PACKAGE_DIR)}:{line}: {target}{'' if explained else '  (no reason given)'}")
    print(f"{len(local)} function-local imports of our own modules, {sum(not e for *_, e in local)} without a reason")
