"""plot.py -- draws the loss curve PNG: with matplotlib when it is installed,
otherwise with a small built-in rasteriser and PNG encoder (zlib + CRC
chunks), so a training run always leaves a picture of its curve."""
import struct
import zlib

import numpy as np


def _png_bytes(rgb):
    """rgb: uint8 [H, W, 3] -> PNG file bytes (colour type 2, no filter)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _line(img, x0, y0, x1, y1, color):
    n = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
    xs = np.linspace(x0, x1, n).round().astype(int)
    ys = np.linspace(y0, y1, n).round().astype(int)
    ok = (xs >= 0) & (xs < img.shape[1]) & (ys >= 0) & (ys < img.shape[0])
    img[ys[ok], xs[ok]] = color
    img[np.clip(ys[ok] + 1, 0, img.shape[0] - 1), xs[ok]] = color


def _plot_builtin(series, path, width=800, height=500):
    img = np.full((height, width, 3), 255, dtype=np.uint8)
    left, right, top, bottom = 60, 20, 20, 40
    pts = [(x, y) for _, xs, ys, _ in series for x, y in zip(xs, ys) if np.isfinite(y)]
    if not pts:
        raise ValueError("no finite points to plot")
    xmin, xmax = min(p[0] for p in pts), max(p[0] for p in pts)
    ymin, ymax = min(p[1] for p in pts), max(p[1] for p in pts)
    if xmax == xmin:
        xmax = xmin + 1
    if ymax == ymin:
        ymax = ymin + 1

    def tx(x):
        return left + (x - xmin) / (xmax - xmin) * (width - left - right)

    def ty(y):
        return height - bottom - (y - ymin) / (ymax - ymin) * (height - top - bottom)

    grey = (120, 120, 120)
    _line(img, left, top, left, height - bottom, grey)
    _line(img, left, height - bottom, width - right, height - bottom, grey)
    for k in range(1, 5):  # light horizontal grid lines
        y = top + k * (height - top - bottom) / 5
        _line(img, left, y, width - right, y, (225, 225, 225))
    for _, xs, ys, color in series:
        p = [(tx(x), ty(y)) for x, y in zip(xs, ys) if np.isfinite(y)]
        for (a, b), (c, d) in zip(p, p[1:]):
            _line(img, a, b, c, d, color)
        for a, b in p if len(p) < 60 else []:
            img[max(0, int(b) - 2):int(b) + 3, max(0, int(a) - 2):int(a) + 3] = color
    with open(path, "wb") as f:
        f.write(_png_bytes(img))


def plot_losses(history, path, title="loss"):
    """history: list of dicts with step, and train_loss and/or val_loss."""
    tr = [(h["step"], h["train_loss"]) for h in history if h.get("train_loss") is not None]
    va = [(h["step"], h["val_loss"]) for h in history if h.get("val_loss") is not None]
    series = []
    if tr:
        series.append(("train", [a for a, _ in tr], [b for _, b in tr], (31, 119, 180)))
    if va:
        series.append(("validation", [a for a, _ in va], [b for _, b in va], (214, 39, 40)))
    if not series:
        raise ValueError("empty loss history")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _plot_builtin(series, path)
        return "builtin"
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, xs, ys, color in series:
        ax.plot(xs, ys, label=name, color=tuple(c / 255 for c in color), marker="o" if name == "validation" else None)
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return "matplotlib"
