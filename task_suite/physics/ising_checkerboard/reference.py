import numpy as np


def _half(s, rand, beta, color):
    nb = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
    de = 2 * s * nb
    ii, jj = np.indices(s.shape)
    flip = ((ii + jj) % 2 == color) & (rand.astype(np.float64) < np.exp(-beta * de))
    return np.where(flip, -s, s)


def reference(spins, rand, beta, sweeps, ny, nx):
    beta = float(np.float32(beta))
    s = spins.astype(np.int64)
    for k in range(sweeps):
        s = _half(s, rand[k], beta, 0)
        s = _half(s, rand[k], beta, 1)
    return s.astype(np.int8)


def generate(sizes, rng):
    ny, nx, sweeps = sizes["ny"], sizes["nx"], sizes["sweeps"]
    beta = float(np.float32(rng.choice([0.2, 0.44, 0.7])))
    spins = np.where(rng.random((ny, nx)) < rng.choice([0.5, 0.9]), 1, -1).astype(np.int8)
    rand = rng.random((sweeps, ny, nx)).astype(np.float32)
    # keep the random numbers away from the two acceptance probabilities, so a float32 exp cannot flip a decision
    for p in (np.exp(-4 * beta), np.exp(-8 * beta)):
        near = np.abs(rand.astype(np.float64) - p) < 1e-5
        rand[near] = np.float32(p + 2e-5)
    return {"spins": spins, "rand": rand, "beta": beta}
