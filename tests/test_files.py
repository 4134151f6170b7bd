"""The one atomic write: a reader never sees a half-written file and no temporary file is left behind."""

import os
import stat

import pytest

from pytest_cudabench.files import atomic_write, publish_file


def test_atomic_write_replaces_the_whole_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "deep" / "report.json"
    atomic_write(target, "old")
    atomic_write(target, "new ü")
    assert target.read_text(encoding="utf-8") == "new ü"
    atomic_write(target, b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes"
    assert os.listdir(target.parent) == ["report.json"]


def test_atomic_write_gives_the_mode_of_a_plain_write(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("x")
    atomic_write(tmp_path / "atomic", "x")
    assert stat.S_IMODE((tmp_path / "atomic").stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "cache.json"
    atomic_write(target, "old")
    with pytest.raises(TypeError):
        atomic_write(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["cache.json"]


def test_publish_file_moves_a_built_file_into_place(tmp_path):
    built = tmp_path / "scratch" / "lib.so"
    built.parent.mkdir()
    built.write_bytes(b"ELF")
    built.chmod(0o755)
    target = publish_file(built, tmp_path / "cache" / "libanswer.so")
    assert target.read_bytes() == b"ELF" and not built.exists()
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert os.listdir(target.parent) == ["libanswer.so"]
