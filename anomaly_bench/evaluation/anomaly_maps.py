"""Where an image differs from the method's picture of it: per-pixel |x - G(x)|, drawn over the
image at its own size.

The map is the absolute difference between an image and its reconstruction on the [-1, 1] scale
the models see, averaged over channels, upsampled to the file's own size. Colours use one fixed
scale for every image (0: blue, `MAP_SCALE` or more: red), so two maps can be compared by eye; a
per-image scale would paint the hottest pixel of a perfect reconstruction red.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image
from torch import Tensor

from anomaly_bench.settings.whole_files import written_whole

MAP_SCALE = 1.0  # half the [-1, 1] range
OVERLAY_ALPHA = 0.5


def anomaly_maps(images: Tensor, reconstructions: Tensor) -> np.ndarray:
    """[B, H, W] float32: |x - G(x)| averaged over channels."""
    return (images - reconstructions).abs().mean(1).float().cpu().numpy()


def to_rgb(pixels: np.ndarray) -> np.ndarray:
    """uint8 [C, H, W] (C = 1 or 3) as [H, W, 3]."""
    image = pixels.transpose(1, 2, 0)
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image


def _resized(values: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(
        Image.fromarray(values.astype(np.float32), mode="F").resize(
            (width, height), Image.Resampling.BILINEAR
        )
    )


def overlay(original: np.ndarray, amap: np.ndarray) -> np.ndarray:
    """The map in colour over the image (uint8 [C, H, W] at its own size): uint8 [H, W, 3]."""
    height, width = original.shape[1:]
    level = np.clip(_resized(amap, width, height) / MAP_SCALE, 0.0, 1.0)
    heat = matplotlib.colormaps["jet"](level)[..., :3] * 255.0
    blended = (1 - OVERLAY_ALPHA) * to_rgb(original) + OVERLAY_ALPHA * heat
    return blended.round().astype(np.uint8)


def reconstruction_image(reconstruction: Tensor, width: int, height: int) -> np.ndarray:
    """A reconstruction ([C, h, w] in [-1, 1]) as uint8 [H, W, 3] at the file's own size."""
    pixels = ((reconstruction.float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte().numpy()
    channels = [_resized(channel, width, height) for channel in pixels]
    return to_rgb(np.clip(np.stack(channels), 0, 255).round().astype(np.uint8))


def save_map_pair(
    folder: Path, stem: str, original: np.ndarray, reconstruction: Tensor, amap: np.ndarray
) -> tuple[Path, Path]:
    """`<stem>_reconstruction.png` and `<stem>_map.png` in `folder`; their paths. Each is
    written whole, so a predict killed part way leaves a user's earlier maps readable."""
    height, width = original.shape[1:]
    rebuilt = folder / f"{stem}_reconstruction.png"
    drawn = folder / f"{stem}_map.png"
    for path, pixels in (
        (rebuilt, reconstruction_image(reconstruction, width, height)),
        (drawn, overlay(original, amap)),
    ):
        with written_whole(path) as partial:
            Image.fromarray(pixels).save(partial, format="PNG")
    return rebuilt, drawn
