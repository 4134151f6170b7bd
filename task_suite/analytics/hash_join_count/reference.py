import numpy as np


def reference(build, probe, num_build, num_probe):
    keys, counts = np.unique(build, return_counts=True)
    pos = np.clip(np.searchsorted(keys, probe), 0, keys.size - 1)
    return np.where(keys[pos] == probe, counts[pos], 0).astype(np.int32)


def generate(sizes, rng):
    nb, nq = sizes["num_build"], sizes["num_probe"]
    # a key domain from tiny (every key repeats many times) to huge (mostly unique keys), spread over the whole int32
    # range; a few hot keys, and the extreme values that break "empty = 0" or "empty = -1" tables
    domain_size = int(rng.choice([4, 100, max(1, nb // 4), 4 * nb + 1]))
    domain = rng.integers(-2**31, 2**31, size=domain_size)
    domain[: min(domain_size, 4)] = [0, -1, -2**31, 2**31 - 1][: min(domain_size, 4)]
    build = domain[rng.integers(0, domain_size, size=nb)]
    hot = rng.random(nb) < 0.2
    build[hot] = domain[0]
    probe = domain[rng.integers(0, domain_size, size=nq)]
    miss = rng.random(nq) < 0.3  # keys that are (almost surely) absent
    probe[miss] = rng.integers(-2**31, 2**31, size=int(miss.sum()))
    return {"build": build.astype(np.int32), "probe": probe.astype(np.int32)}
