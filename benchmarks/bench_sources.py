"""An image folder at scale: 20,000 RGB 64 x 64 PNGs in 10 class folders, read (``latentwalk.data.custom``) and
stored as a dataset file, in a child process: its seconds and peak memory, against Pillow decoding the same files
alone (open, decode, to numpy, nothing kept)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from common import REPO, Row, median_of, timed_child

CHILD = """
import sys, time
sys.path.insert(0, {workflow!r})
import numpy as np
from latentwalk.core.logs import peak_rss_mib
from latentwalk.data.custom import read_source
from latentwalk.data.dataset import Dataset, save_dataset, split_indices
start = time.perf_counter()
source = read_source("bench", {{"path": {folder!r}, "size": 64, "channels": 3}})
n = len(source.images)
save_dataset(Dataset(source.images, source.labels, split_indices(n, 0.2, 0), "class"), {out!r})
print(time.perf_counter() - start, peak_rss_mib())
"""


def make_folder(root: Path, n: int, classes: int = 10, size: int = 64) -> None:
    """``n`` PNGs of coloured rectangles on a gradient (compressible like drawings and renders), seeded."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, size, dtype=np.float64)
    for k in range(n):
        folder = root / f"class{k % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        image = np.empty((size, size, 3), np.uint8)
        image[...] = (ramp[:, None, None] * rng.random(3)).astype(np.uint8)
        x0, y0 = rng.integers(0, size // 2, 2)
        w, h = rng.integers(8, size // 2, 2)
        image[y0 : y0 + h, x0 : x0 + w] = rng.integers(0, 256, 3, dtype=np.uint8)
        Image.fromarray(image).save(folder / f"{k:05d}.png")


def decode_only(root: Path) -> float:
    """Seconds Pillow takes to open and decode every PNG under ``root`` into numpy (nothing kept)."""
    import numpy as np
    from PIL import Image

    start = time.perf_counter()
    for path in sorted(root.rglob("*.png")):
        with Image.open(path) as image:
            np.asarray(image.convert("RGB"))
    return time.perf_counter() - start


def run(repeats: int = 3, quick: bool = False) -> list[Row]:
    n = 2_000 if quick else 20_000
    with tempfile.TemporaryDirectory(prefix="lw-sources-") as tmp:
        folder = Path(tmp) / "images"
        make_folder(folder, n)
        script = CHILD.format(workflow=str(REPO / "workflow"), folder=str(folder), out=str(Path(tmp) / "data.npz"))
        children = [timed_child([sys.executable, "-c", script], REPO) for _ in range(repeats)]
        seconds, peaks = zip(*(map(float, c["stdout"].split()) for c in children))
        decode_s, _ = median_of(repeats, lambda: decode_only(folder))
    prepare_s, peak = sorted(seconds)[len(seconds) // 2], max(peaks)
    label = f"image folder, {n} RGB 64x64 PNGs in 10 classes"
    return [
        Row("sources", f"{label}: read and stored", prepare_s, "s", "Pillow decoding alone", decode_s / prepare_s,
            "<= 60 s", prepare_s <= 60, note=f"decoding alone {decode_s:.1f} s"),
        Row("sources", f"{label}: peak RSS", peak, "MiB", target="<= 1536 MiB", met=peak <= 1536),
    ]
