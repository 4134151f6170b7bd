"""A test-side pytest plugin: `-p host_clock_plugin` times items on the CPU runtime with the host clock and scores
them on an H100's datasheet peaks (Settings.host_clock_gpu, timing.stage.measurement_policy), so the time stage and
refinement run without a GPU. Loaded by name in the controller and, through `-p`, in every xdist worker, each of
which sets its own settings; no environment variable is involved."""

import dataclasses

import pytest

from pytest_cudabench.plugin.stash import SETTINGS_KEY

HOST_CLOCK_GPU = "NVIDIA H100 80GB HBM3"


@pytest.hookimpl(trylast=True)  # after pytest-cudabench's own pytest_configure built the settings
def pytest_configure(config: pytest.Config) -> None:
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is not None:
        config.stash[SETTINGS_KEY] = dataclasses.replace(settings, host_clock_gpu=HOST_CLOCK_GPU)
