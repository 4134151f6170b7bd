import numpy as np


def reference(img, height, width):
    p = np.pad(img.astype(np.float64), 1, mode="edge")
    tl, tc, tr = p[:-2, :-2], p[:-2, 1:-1], p[:-2, 2:]
    ml, mr = p[1:-1, :-2], p[1:-1, 2:]
    bl, bc, br = p[2:, :-2], p[2:, 1:-1], p[2:, 2:]
    gx = (tr + 2 * mr + br) - (tl + 2 * ml + bl)
    gy = (bl + 2 * bc + br) - (tl + 2 * tc + tr)
    return np.sqrt(gx * gx + gy * gy).astype(np.float32)


def generate(sizes, rng):
    h, w = sizes["height"], sizes["width"]
    # smooth shapes with sharp edges plus noise, so both flat and steep regions occur
    yy, xx = np.mgrid[0:h, 0:w]
    img = 0.5 * ((xx + 2 * yy) % 37 < 18) + 0.3 * np.sin(xx / 7.0) * np.cos(yy / 5.0) + 0.1 * rng.random((h, w))
    return {"img": np.clip(img, 0, 1).astype(np.float32)}
