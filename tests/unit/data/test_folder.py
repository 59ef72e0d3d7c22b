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
