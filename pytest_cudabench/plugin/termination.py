"""SIGTERM (a batch scheduler's time limit, `kill`, a container stopping) ends the run the way Ctrl-C does: the
report is written, marked incomplete with the reason, and model requests in flight are cached (the Ctrl-C path of
controller.Controller.pytest_keyboard_interrupt)."""

from __future__ import annotations

import signal
import threading

import pytest

TERMINATED = "terminated (SIGTERM)"
INTERRUPTED = "interrupted (Ctrl-C)"
_TERMINATED_KEY = pytest.StashKey[bool]()


def install_sigterm_handler(config: pytest.Config) -> None:
    """In this process (the controller, a run without xdist, or an xdist worker: a scheduler signals them all),
    SIGTERM raises KeyboardInterrupt; the previous handler comes back when the run ends."""
    if threading.current_thread() is not threading.main_thread():  # signal handlers belong to the main thread
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        config.stash[_TERMINATED_KEY] = True
        raise KeyboardInterrupt(TERMINATED)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    signal.signal(signal.SIGTERM, on_sigterm)
    config.add_cleanup(restore)


def interrupt_reason(config: pytest.Config) -> str:
    """Why a KeyboardInterrupt ended the run: SIGTERM or Ctrl-C."""
    return TERMINATED if config.stash.get(_TERMINATED_KEY, False) else INTERRUPTED
