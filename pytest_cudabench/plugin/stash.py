"""What the plugin keeps on the pytest config, shared by its modules."""

from __future__ import annotations

from typing import Any

import pytest

from ..config import Settings
from ..session import GenerationService

SETTINGS_KEY = pytest.StashKey[Settings]()
GENERATOR_KEY = pytest.StashKey[GenerationService]()
PREFETCHED_KEY = pytest.StashKey[bool]()
SHARD_KEY = pytest.StashKey[dict[str, Any]]()  # run.shard: {index, count, tasks}, under --cudabench-shard
# Names in xdist's workerinput / workeroutput.
WORKERINPUT_KEY = "cudabench_settings"
WORKER_MACHINE_KEY = "cudabench_machine"
