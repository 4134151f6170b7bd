import numpy as np


def reference(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, step, n):
    # solve receives the float scalars as C floats: round them the same way, then compute in float64
    lr, beta1, beta2, eps, wd = (float(np.float32(s)) for s in (lr, beta1, beta2, eps, weight_decay))
    p = param.astype(np.float64) * (1.0 - lr * wd)
    g = grad.astype(np.float64)
    m_new = beta1 * m.astype(np.float64) + (1.0 - beta1) * g
    v_new = beta2 * v.astype(np.float64) + (1.0 - beta2) * g * g
    m_hat = m_new / (1.0 - beta1 ** step)
    v_hat = v_new / (1.0 - beta2 ** step)
    p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p.astype(np.float32), m_new.astype(np.float32), v_new.astype(np.float32)


def generate(sizes, rng):
    n = sizes["n"]
    step = int(rng.choice([1, 2, 10, 1000]))
    grad = rng.standard_normal(n) * 0.1
    grad[rng.random(n) < 0.05] = 0.0  # zero gradients: the update is driven by the moments alone
    m = rng.standard_normal(n) * 0.01
    v = rng.uniform(0.0, 0.02, n) ** 2
    if step == 1:  # a fresh optimizer: zero moments
        m[:] = 0.0
        v[:] = 0.0
    return {
        "grad": grad.astype(np.float32), "m": m.astype(np.float32), "v": v.astype(np.float32), "step": step,
        "lr": float(np.float32(rng.choice([1e-3, 3e-4, 1e-2]))),
        "weight_decay": float(np.float32(rng.choice([0.0, 0.01, 0.1]))),
    }
