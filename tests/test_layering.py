"""The package reads as its stage list and imports only downward: a module may import from its own package or from
a lower layer, never from a higher one, and no modules import each other in a cycle at import time."""

import ast
from pathlib import Path

import pytest_cudabench

PACKAGE_DIR = Path(pytest_cudabench.__file__).parent
# Lowest first. A top-level module is its own layer; a subpackage is one layer with everything inside it.
LAYERS = [
    "errors", "files", "tasks", "config", "source", "generation", "results", "protocol", "timing", "execution",
    "pipeline", "compile_ahead", "cudabench_set", "reporting", "session", "validate", "doctor", "plugin", "__main__",
]


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports_of(path: Path, module: str) -> list[tuple[str, bool]]:
    """(imported module, at import time) for every import of our own package in `path`."""
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    tree = ast.parse(path.read_text())
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        at_import_time = id(node) in top_level
        if isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                target = ".".join(anchor + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "pytest_cudabench":
                target = node.module
            else:
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                is_module = (PACKAGE_DIR.parent / (candidate.replace(".", "/") + ".py")).exists() or (
                    PACKAGE_DIR.parent / candidate.replace(".", "/")).is_dir()
                found.append((candidate if is_module else target, at_import_time))
        elif isinstance(node, ast.Import):
            found += [(a.name, at_import_time) for a in node.names if a.name.split(".")[0] == "pytest_cudabench"]
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
        for target, _ in imports_of(path, module):
            target_layer = layer_of(target)
            if target_layer and LAYERS.index(target_layer) > LAYERS.index(source_layer):
                upward.append(f"{module} imports {target} ({source_layer} -> {target_layer})")
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    modules = our_modules()
    graph = {m: {t for t, at_import in imports_of(p, m) if at_import and t in modules and t != m}
             for m, p in modules.items()}
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


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    """The checker itself must be able to fail: a lower layer importing a higher one is reported."""
    fake = tmp_path / "pytest_cudabench"
    (fake / "tasks").mkdir(parents=True)
    (fake / "reporting").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "tasks" / "__init__.py").write_text("")
    (fake / "reporting" / "__init__.py").write_text("")
    (fake / "reporting" / "html.py").write_text("")
    (fake / "tasks" / "loader.py").write_text("from ..reporting import html\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE_DIR", fake)
    try:
        test_imports_only_go_down()
    except AssertionError as failure:
        assert "pytest_cudabench.tasks.loader imports pytest_cudabench.reporting.html" in str(failure)
    else:
        raise AssertionError("an upward import was not reported")


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
