"""The CPU runtime's headers: cuda_shim.h is the umbrella of its sections in cuda_shim/, every file of the runtime's
folder is part of the CPU build cache's key, and the package ships every header."""

import re
import shutil
import tomllib
from pathlib import Path

from pytest_cudabench.execution import supervisor
from pytest_cudabench.execution.cpu_runtime import build

PARTS = build.RUNTIME_DIR / "cuda_shim"


def runtime_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(build.RUNTIME_DIR, tmp_path / "cpu_runtime",
                                ignore=shutil.ignore_patterns("__pycache__")))


def test_the_umbrella_includes_every_part_once_and_only_parts():
    included = re.findall(r'^#include "cuda_shim/([^"]+)"', build.SHIM_HEADER.read_text(), re.MULTILINE)
    parts = sorted(p.name for p in PARTS.glob("*.h"))
    assert len(parts) > 10 and sorted(included) == parts


def test_changing_any_file_of_the_runtime_changes_the_build_key(tmp_path):
    root = runtime_copy(tmp_path)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert root / "cuda_shim" / "fibers.h" in files and root / "rewrite.py" in files
    before = build.runtime_version(root)
    for path in files:
        text = path.read_bytes()
        path.write_bytes(text + b"\n")
        assert build.runtime_version(root) != before, f"{path.relative_to(root)} is not in the build key"
        path.write_bytes(text)
    assert build.runtime_version(root) == before
    (root / "cuda_shim" / "atomics.h").rename(root / "cuda_shim" / "atomic.h")
    assert build.runtime_version(root) != before, "a renamed part must change the key"


def test_the_cached_cpu_build_builds_again_after_a_part_header_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "RUNTIME_DIR", runtime_copy(tmp_path))
    builds = []

    def write(path: Path) -> None:
        builds.append(path)
        path.write_bytes(b"library")

    cache = tmp_path / "cache"
    first, cached = supervisor.cached_cpu_build(cache, ["source", False, "sm_90"], "lib.so", write)
    assert not cached and supervisor.cached_cpu_build(cache, ["source", False, "sm_90"], "lib.so", write) == (first, True)
    with (build.RUNTIME_DIR / "cuda_shim" / "textures.h").open("a") as part:
        part.write("// changed\n")
    second, cached = supervisor.cached_cpu_build(cache, ["source", False, "sm_90"], "lib.so", write)
    assert not cached and second != first and len(builds) == 2


def test_the_package_data_ships_every_header():
    package = build.RUNTIME_DIR.parents[1]
    globs = tomllib.loads((package.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "pytest_cudabench"]
    shipped = {path for pattern in globs for path in package.glob(pattern)}  # setuptools' globs: * stays in a folder
    headers = set(build.RUNTIME_DIR.rglob("*.h"))
    assert len(headers) > 10 and headers - shipped == set()
