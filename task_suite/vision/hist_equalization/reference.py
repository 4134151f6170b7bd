import numpy as np


def reference(img, height, width):
    hist = np.bincount(img.reshape(-1), minlength=256).astype(np.int64)
    cdf = np.cumsum(hist)
    total = int(height) * int(width)
    cdf_min = int(hist[np.nonzero(hist)[0][0]])
    if total == cdf_min:
        return img.copy()
    d = total - cdf_min
    num = np.maximum(cdf - cdf_min, 0)
    lut = (num * 510 + d) // (2 * d)
    return lut[img].astype(np.uint8)


def generate(sizes, rng):
    h, w = sizes["height"], sizes["width"]
    # a low-contrast image: values crowded into a narrow band, sometimes a single grey level
    kind = rng.choice(["band", "band", "bimodal", "flat"])
    if kind == "flat":
        img = np.full((h, w), rng.integers(0, 256))
    elif kind == "band":
        lo = rng.integers(0, 200)
        img = np.clip(rng.normal(lo + 20, 8, (h, w)), 0, 255)
    else:
        img = np.where(rng.random((h, w)) < 0.3, rng.normal(60, 5, (h, w)), rng.normal(180, 10, (h, w)))
    return {"img": np.clip(img, 0, 255).astype(np.uint8)}
