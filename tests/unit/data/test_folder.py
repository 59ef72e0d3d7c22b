"""Reading a user's image file: deeper greys scaled, not clamped; pixels of no stated range
refused."""

import numpy as np
import pytest
from PIL import Image

from anomaly_bench.data.folder import read_image


@pytest.fixture
def grey() -> np.ndarray:
    """An 8-bit grey image with every level."""
    return (np.arange(40 * 30).reshape(40, 30) % 256).astype(np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize(("channels", "size"), [(1, None), (3, None), (1, 16)])
def test_a_16_bit_grey_image_reads_as_its_8_bit_twin(grey, tmp_path, suffix, channels, size):
    """65535 is white at 16 bits as 255 is at 8: Pillow's own conversion clamps at 255 instead,
    which read this image 99 % white."""
    Image.fromarray(grey).save(tmp_path / "eight.png")
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / f"sixteen{suffix}")
    assert Image.open(tmp_path / f"sixteen{suffix}").mode.startswith("I;16")
    eight = read_image(tmp_path / "eight.png", channels, size)
    sixteen = read_image(tmp_path / f"sixteen{suffix}", channels, size)
    assert sixteen.dtype == np.uint8 and np.array_equal(sixteen, eight)


def test_float_pixels_are_refused_naming_the_file_and_what_to_do(grey, tmp_path):
    Image.fromarray(grey.astype(np.float32) / 255).save(tmp_path / "floats.tif")
    with pytest.raises(ValueError, match=r"floats\.tif cannot be read .*32-bit floats \(mode F\)"):
        read_image(tmp_path / "floats.tif", 1, 32)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
@pytest.mark.parametrize(("orientation", "turns"), [(1, 0), (3, 2), (6, 1), (8, 3)])
def test_a_photo_reads_the_way_up_its_exif_orientation_says(
    grey, tmp_path, suffix, orientation, turns
):
    """A phone keeps a portrait shot as landscape pixels and an orientation tag (6: turn it a
    quarter clockwise to view); the image reads as a viewer shows it, the same as the upright
    file without a tag."""
    upright = np.kron(grey[:8, :6], np.ones((4, 4), np.uint8))  # blocks: JPEG keeps them
    exif = Image.Exif()
    exif[0x0112] = orientation  # the EXIF Orientation tag
    Image.fromarray(np.rot90(upright, turns).copy()).save(tmp_path / f"tagged{suffix}", exif=exif)
    Image.fromarray(upright).save(tmp_path / f"upright{suffix}")
    tagged = read_image(tmp_path / f"tagged{suffix}", 1, None)
    assert tagged.shape == (1, 32, 24)
    assert np.abs(tagged.astype(int) - read_image(tmp_path / f"upright{suffix}", 1, None)).max() < 8
