"""The CUDA toolkit locator (source/toolkit.py): nvcc, the toolkit's programs, its headers and its runtime library
are looked up in the same toolkits in one order: CUDA_HOME, PATH's nvcc, the pip wheels, /usr/local/cuda."""

import sys
from pathlib import Path

import pytest

from pytest_cudabench.errors import ConfigError
from pytest_cudabench.source import toolkit


def fake_toolkit(root: Path, *programs: str, headers: bool = False) -> Path:
    (root / "bin").mkdir(parents=True)
    for name in programs:
        tool = root / "bin" / name
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
    if headers:
        (root / "include").mkdir()
        for header in ("cuda_runtime.h", "vector_types.h"):
            (root / "include" / header).write_text("")
    return root


@pytest.fixture
def no_toolkit(monkeypatch, tmp_path):
    """Nothing named, an empty PATH, no wheels on sys.path, and /usr/local/cuda out of reach."""
    monkeypatch.delenv("CUDA_HOME", raising=False)
    monkeypatch.delenv("CUDA_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(sys, "path", [str(tmp_path / "site")])
    real_roots = toolkit.toolkit_roots
    monkeypatch.setattr(toolkit, "toolkit_roots", lambda: [r for r in real_roots() if r != Path("/usr/local/cuda")])


def test_every_lookup_follows_one_order_cuda_home_then_path_then_the_wheel(tmp_path, monkeypatch, no_toolkit):
    home = fake_toolkit(tmp_path / "home", "nvcc", headers=True)
    on_path = fake_toolkit(tmp_path / "path", "nvcc", "ncu", headers=True)
    wheel = fake_toolkit(tmp_path / "site" / "nvidia" / "cu13", "nvcc", "compute-sanitizer", headers=True)

    assert toolkit.find_nvcc() == wheel / "bin" / "nvcc"
    assert toolkit.find_cuda_include() == wheel / "include"
    monkeypatch.setenv("PATH", str(on_path / "bin"))
    assert toolkit.find_nvcc() == on_path / "bin" / "nvcc"
    assert toolkit.find_cuda_include() == on_path / "include"
    monkeypatch.setenv("CUDA_HOME", str(home))
    assert toolkit.find_nvcc() == home / "bin" / "nvcc"
    assert toolkit.find_cuda_include() == home / "include"
    # A program the named toolkit lacks comes from the next one that has it.
    assert toolkit.find_cuda_tool("ncu") == str(on_path / "bin" / "ncu")
    assert toolkit.find_cuda_tool("compute-sanitizer") == str(wheel / "bin" / "compute-sanitizer")
    assert toolkit.find_cuda_tool("nsys") is None
    libraries = toolkit.cudart_candidates()
    assert libraries[0] == str(home / "lib64" / "libcudart.so")
    assert libraries.index(str(on_path / "lib64" / "libcudart.so")) < libraries.index(
        str(wheel / "lib64" / "libcudart.so"))


def test_without_a_toolkit_nvcc_is_a_config_error_that_says_how_to_get_one(no_toolkit):
    with pytest.raises(ConfigError, match="set CUDA_HOME.*put nvcc on PATH.*nvidia-cuda-nvcc"):
        toolkit.find_nvcc()
    assert toolkit.find_cuda_include() is None and toolkit.find_cuda_tool("ncu") is None
