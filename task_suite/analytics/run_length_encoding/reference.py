import numpy as np


def reference(x, n):
    heads = np.concatenate([[True], x[1:] != x[:-1]])
    starts = np.nonzero(heads)[0]
    runs = starts.size
    values = np.zeros(n, dtype=np.int32)
    lengths = np.zeros(n, dtype=np.int32)
    values[:runs] = x[starts]
    lengths[:runs] = np.diff(np.concatenate([starts, [n]]))
    return values, lengths, np.array([runs], dtype=np.int32)


def generate(sizes, rng):
    n = sizes["n"]
    # runs of geometric length (mean 1, 8 or 1000: single elements to very long runs); values from a small alphabet,
    # so neighbouring runs sometimes get the same value and merge into one maximal run
    mean = float(rng.choice([1.0, 8.0, 1000.0]))
    lengths = rng.geometric(1.0 / mean, size=n)
    starts = np.cumsum(lengths)
    count = int(np.searchsorted(starts, n)) + 1
    run_values = rng.integers(-5, 6, size=count) * rng.choice([1, 1000000])
    run_of = np.repeat(np.arange(count), lengths[:count])[:n]
    return {"x": run_values[run_of].astype(np.int32)}


def check(inputs, expected, got):
    n = int(inputs["n"])
    runs = int(expected["num_runs"][0])
    if got["num_runs"].shape != (1,) or int(got["num_runs"][0]) != runs:
        return f"num_runs: expected {runs}, got {got['num_runs'].tolist()}"
    for name in ("values", "lengths"):
        if got[name].shape != (n,):
            return f"{name}: shape {got[name].shape}, expected ({n},)"
        bad = np.nonzero(got[name][:runs] != expected[name][:runs])[0]
        if bad.size:
            r = int(bad[0])
            return (f"{name}: {bad.size} of the {runs} runs differ; first at run {r}: expected "
                    f"{int(expected[name][r])}, got {int(got[name][r])}")
    return None
