"""The runtime every session the tests start is pinned to, unless a test names one (see conftest.py's `pytester`).

On a GPU machine `--cudabench-runtime=auto` becomes `gpu`: sessions the tests start would then time answers at
GiB scales and meet GPU messages where the tests expect the CPU runtime's."""

PINNED_RUNTIME = "--cudabench-runtime=cpu"


def pin_runtime(args) -> tuple:
    """A session's arguments with the CPU runtime added, unless they name a runtime or leave the plugin out."""
    texts = [str(a) for a in args]
    if any(t.startswith("--cudabench-runtime") for t in texts) or "no:cudabench" in texts:
        return tuple(args)
    return (*args, PINNED_RUNTIME)
