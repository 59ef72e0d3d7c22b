"""Your own images: a folder of normal images (and one of anomalies) as a one-class dataset.

`data=folder data.root=DIR data.normal_dir=good data.abnormal_dir=defect` (anomalib's names):
training takes the normal images, the test split the held-out normals (`normal_test_dir`, or a
seeded `normal_split_ratio` of `normal_dir`) and every anomaly. Any image format Pillow reads,
any size: each image is converted to `channels` (1 grayscale, 3 RGB) and resized to
`image_size` x `image_size` once, at reading (non-square images are stretched). A 16-bit grey
image (a camera's or a scanner's PNG or TIFF) is scaled to 8 bits by its depth, 0-65535 to 0-255:
Pillow's own conversion clamps at 255 and would turn it almost white. A photo is read the way up
its EXIF orientation says (as a viewer shows it): a phone stores a portrait shot as landscape
pixels and a tag, so without it the same object would train upright and be scored on its side,
or the other way round. Everything else
(the methods, the metric callback, the store, the report) sees an ordinary one-class dataset
whose class 0 is `normal` and class 1 `abnormal`.

The images are untrusted input: a file Pillow cannot decode, one that claims more pixels than
Pillow's decompression-bomb limit, an empty folder, or the same image twice (by content, also
across folders, so no test image is trained on) is refused with an error that names the file.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from anomaly_bench.data.one_class import OneClassDataModule
from anomaly_bench.data.sources import DatasetSpec, ImageSplits
from anomaly_bench.settings.checks import check_choice

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
CLASS_NAMES = ("normal", "abnormal")
PIL_MODES = {1: "L", 3: "RGB"}
SIXTEEN_BITS = 65535


def images_in(folder: Path) -> list[Path]:
    """The image files directly in `folder`, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def image_files(folder: Path, key: str) -> list[Path]:
    """`images_in(folder)`; an error naming the folder when it is missing or holds none."""
    if not folder.is_dir():
        raise FileNotFoundError(f"data.{key}: {folder} is not a folder")
    files = images_in(folder)
    if not files:
        raise ValueError(
            f"data.{key}: {folder} holds no image (looked for {', '.join(IMAGE_SUFFIXES)})"
        )
    return files


def eight_bit(image: Image.Image) -> Image.Image:
    """A grey image of more than 8 bits as 8-bit grey, scaled by its depth rather than clamped;
    an image whose pixels have no stated range (floats, integers beyond 16 bits) is refused."""
    if image.mode == "F":
        raise ValueError(
            "its pixels are 32-bit floats (mode F), whose range the file does not state; save it "
            "as an 8- or 16-bit image"
        )
    if not image.mode.startswith("I"):
        return image
    pixels = np.asarray(image, dtype=np.int64)
    if pixels.min() < 0 or pixels.max() > SIXTEEN_BITS:
        raise ValueError(
            f"its integer pixels run from {pixels.min()} to {pixels.max()}; allowed: 0 to "
            f"{SIXTEEN_BITS} (8 or 16 bits)"
        )
    return Image.fromarray((pixels * 255 / SIXTEEN_BITS).round().astype(np.uint8))


def read_image(path: Path, channels: int, size: int | None) -> np.ndarray:
    """One image as uint8 [C, size, size] (its own height and width for `size=None`); an error
    naming the file when it cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image = eight_bit(ImageOps.exif_transpose(image)).convert(PIL_MODES[channels])
                if size is not None:
                    image = image.resize((size, size), Image.Resampling.BILINEAR)
                pixels = np.asarray(image, dtype=np.uint8)
    except (
        UnidentifiedImageError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
        OSError,
        ValueError,
    ) as err:
        raise ValueError(f"image {path} cannot be read ({type(err).__name__}: {err})") from None
    return pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)


def refuse_duplicates(files: list[Path]) -> None:
    """The same bytes twice would train on a test image or count one twice: named, refused."""
    seen: dict[str, Path] = {}
    for path in files:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:
            raise ValueError(
                f"image {path} is a copy of {seen[digest]}; each image may appear once "
                "(remove one of them)"
            )
        seen[digest] = path


def stack(files: list[Path], channels: int, size: int) -> Tensor:
    return torch.from_numpy(np.stack([read_image(p, channels, size) for p in files]))


class FolderDataModule(OneClassDataModule):
    """The one-class data module over folders of images (module docstring)."""

    def __init__(
        self,
        root: str | Path,
        normal_dir: str = "normal",
        abnormal_dir: str | None = None,
        normal_test_dir: str | None = None,
        normal_split_ratio: float = 0.2,
        channels: int = 3,
        dataset: str = "folder",
        **one_class: object,
    ) -> None:
        check_choice("data.channels", channels, tuple(PIL_MODES))
        if not 0.0 < normal_split_ratio < 1.0:
            raise ValueError(
                f"data.normal_split_ratio={normal_split_ratio!r} is not allowed; allowed: a "
                "share in (0, 1) of the normal images held out for the test split"
            )
        self.root = Path(root)
        self.normal_dir, self.abnormal_dir = normal_dir, abnormal_dir
        self.normal_test_dir, self.normal_split_ratio = normal_test_dir, normal_split_ratio
        self.channels = channels
        super().__init__(dataset=dataset, **one_class)

    def describe(self, dataset: str) -> DatasetSpec:
        return DatasetSpec(self.channels, CLASS_NAMES, read=lambda root, download: None)

    def load_splits(self) -> ImageSplits:
        if self.abnormal_dir is None:
            raise ValueError(
                "data.abnormal_dir is null: without anomalies the test split cannot give an "
                "AUROC; set data.abnormal_dir to a folder of anomalous images"
            )
        normal = image_files(self.root / self.normal_dir, "normal_dir")
        abnormal = image_files(self.root / self.abnormal_dir, "abnormal_dir")
        if self.normal_test_dir is not None:
            train = normal
            test_normal = image_files(self.root / self.normal_test_dir, "normal_test_dir")
        else:
            order = torch.randperm(
                len(normal), generator=torch.Generator().manual_seed(self.seed)
            ).tolist()
            held_out = max(1, round(self.normal_split_ratio * len(normal)))
            if held_out >= len(normal):
                raise ValueError(
                    f"data.normal_dir: {len(normal)} normal image(s) cannot be split into "
                    "training and test; add images or set data.normal_test_dir"
                )
            test_normal = [normal[i] for i in sorted(order[:held_out])]
            train = [normal[i] for i in sorted(order[held_out:])]
        refuse_duplicates([*train, *test_normal, *abnormal])
        log.info(
            "%s: %d normal training images, %d normal and %d anomalous test images from %s",
            self.dataset,
            len(train),
            len(test_normal),
            len(abnormal),
            self.root,
        )
        size = self.image_size
        return ImageSplits(
            train_images=stack(train, self.channels, size),
            train_labels=torch.zeros(len(train), dtype=torch.long),
            test_images=stack([*test_normal, *abnormal], self.channels, size),
            test_labels=torch.tensor([0] * len(test_normal) + [1] * len(abnormal)),
        )
