"""Headless Chromium for the pages' render tests: skipped, saying how to install one, where there is none."""

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest


def chromium() -> str:
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = candidate if os.path.isfile(candidate) and os.access(candidate, os.X_OK) else shutil.which(candidate)
        if found:
            return found
    pytest.skip("no Chromium binary (/usr/bin/chromium, chromium, chromium-browser or google-chrome on PATH); "
                "install one (Debian: apt-get install chromium) to run the rendering test")


def run_chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}", *args, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])
