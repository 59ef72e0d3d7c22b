"""A trained run scoring new images: its row and checkpoint back into a model (`Detector`, for
one's own code), image files in, one CSV line per image out (`predict`).

The model is rebuilt from the config the run saved in its row (every `_target_` checked against
the package's own, `settings/trusted_targets.py`) and its `last.ckpt`, loaded with
`weights_only=True`. Methods whose score needs statistics of the training set (iForest's forest,
DAGMM's mixture, WGAN's critic mean) refit them from the run's own training data, rebuilt from the
same config. Images go through the folder source's reader (`data/folder.py`): converted to the
run's channels, resized to its image size, refused by name when they cannot be read; with
`skip_unreadable`, such an image gets its line with the reason instead of a score, and the others
are scored (one corrupt file in a folder of thousands need not cost the rest).

A flag needs a threshold chosen without anomalies: the one the run chose on its held-out normal
images (`data.val_fraction > 0`: the threshold flagging `val_false_alarm_target` of them). The
Youden threshold, chosen on the test set, is used only when asked for, and the CSV says so.
"""

from __future__ import annotations

import csv
import glob
import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch

from anomaly_bench.data.batches import scale_to_unit_range
from anomaly_bench.data.folder import IMAGE_SUFFIXES, images_in, read_image, stack
from anomaly_bench.data.one_class import OneClassDataModule
from anomaly_bench.engine.onnx_export import check_exportable, export_onnx
from anomaly_bench.engine.trained_model import (
    find_row,
    load_run,
    read_splits,
    scoring_device,
    trained_in,
)
from anomaly_bench.evaluation.anomaly_maps import anomaly_maps, save_map_pair
from anomaly_bench.evaluation.metrics import quantile_threshold
from anomaly_bench.models.base import AnomalyModule
from anomaly_bench.settings.checks import OPEN_SHARE, check_choice
from anomaly_bench.settings.whole_files import check_target, written_whole
from anomaly_bench.store.row_schema import THRESHOLDS

log = logging.getLogger(__name__)

CSV_COLUMNS = ("path", "score", "flag", "threshold", "threshold_source", "error")


@dataclass(frozen=True)
class Threshold:
    value: float | None
    source: str


def image_paths(inputs: list[str]) -> list[Path]:
    """Files, folders (their images, sorted) and globs, in the order given, each once."""
    found: list[Path] = []
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            found += images_in(path)
        elif path.is_file():
            found.append(path)
        else:
            matches = sorted(Path(p) for p in glob.glob(given, recursive=True))
            if not matches:
                raise FileNotFoundError(f"{given}: no such file or folder, and no file matches it")
            found += [p for p in matches if p.is_file()]
    if not found:
        raise ValueError(f"no image among {', '.join(inputs)} (looked for {IMAGE_SUFFIXES})")
    return list(dict.fromkeys(found))


def threshold_of(row: dict[str, Any], choice: str) -> Threshold:
    check_choice("threshold", choice, THRESHOLDS)
    key, source = THRESHOLDS[choice]
    value = row.get(key)
    if value is None and choice == "held_out":
        log.warning(
            "run %s held out no normal images (data.val_fraction=0): scores only, no flags; "
            "train with data.val_fraction=0.1, or pass --threshold youden (chosen on the test "
            "set)",
            row["run_key"],
        )
    return Threshold(value, source if value is not None else "none")


def rate_threshold(model: AnomalyModule, data: OneClassDataModule, rate: float) -> Threshold:
    """The threshold flagging `rate` of the run's held-out normal images, scored again with its
    weights as predict scores new images (the model `load_run` made ready: its training-set
    statistics are not fitted a second time): an operating point chosen without anomalies or
    test data, and without retraining (the run's own threshold is the one for
    `callbacks.anomaly_metrics.val_false_alarm_target`)."""
    read_splits(data, "--false-alarm-rate scores the run's held-out normal images")
    if not len(data.val_set):
        raise ValueError(
            "--false-alarm-rate needs the run's held-out normal images, and it held out none "
            "(data.val_fraction=0); train with data.val_fraction=0.1"
        )
    with torch.no_grad():
        batches = data.val_dataloader()
        scores = torch.cat([float32_scores(model, b.images.to(model.device)) for b in batches])
    return Threshold(
        quantile_threshold(scores, rate), f"held-out normals at false-alarm rate {rate:g}"
    )


@dataclass(frozen=True)
class Scored:
    """Each image's score, and the reason each image left unscored could not be read."""

    scores: dict[Path, float]
    unreadable: dict[Path, str]


@dataclass(frozen=True)
class Prediction:
    """What a call of `predict` found: the scores, and the threshold their flags were set at."""

    scored: Scored
    threshold: Threshold

    def summary(self) -> str:
        """One line for the console: how many were scored, and how many of them flagged."""
        scores = self.scored.scores.values()
        line = f"scored {len(scores)} image(s)"
        if self.scored.unreadable:
            line += (
                f"; {len(self.scored.unreadable)} unreadable, left unscored (their lines say why)"
            )
        if self.threshold.value is None:
            return f"{line}; no flags (the run chose no threshold)"
        flagged = sum(score > self.threshold.value for score in scores)
        share = flagged / len(scores)
        value, source = self.threshold.value, self.threshold.source
        return (
            f"{line}; flagged {flagged} ({share:.1%}) at {value:.4g}, the threshold from {source}"
        )


def readable_images(
    paths: list[Path], channels: int, size: int, skip: bool, unreadable: dict[Path, str]
) -> tuple[list[int], torch.Tensor | None]:
    """The places in `paths` of the images that read, and those images as one [-1, 1] batch
    (None when none read); with `skip`, an image that cannot be read goes into `unreadable`,
    with its reason, instead of stopping the scoring."""
    places, pixels = [], []
    for place, path in enumerate(paths):
        try:
            pixels.append(read_image(path, channels, size))
        except ValueError as err:
            if not skip:
                raise ValueError(f"{err}; --skip-unreadable scores the other images") from None
            log.warning("%s: left out", err)
            unreadable[path] = str(err)
            continue
        places.append(place)
    if not pixels:
        return places, None
    return places, scale_to_unit_range(torch.from_numpy(np.stack(pixels)))


def float32_scores(model: AnomalyModule, images: torch.Tensor) -> torch.Tensor:
    """The scores [B] on the CPU, in float32 whatever the run trained in, as the test loop
    scores."""
    with torch.autocast(model.device.type, enabled=False):
        return model.anomaly_score(images).float().cpu()


@torch.no_grad()
def score_files(
    model: AnomalyModule,
    paths: list[Path],
    channels: int,
    size: int,
    batch_size: int,
    maps: Path | None = None,
    skip_unreadable: bool = False,
) -> Scored:
    """Float32 scores of the images, batch by batch, as the test loop scores them; with `maps`,
    each image's reconstruction and anomaly map written there as it is scored."""
    scored = Scored({}, {})
    total = -(-len(paths) // batch_size)
    for number, first in enumerate(range(0, len(paths), batch_size), start=1):
        chunk = paths[first : first + batch_size]
        places, images = readable_images(chunk, channels, size, skip_unreadable, scored.unreadable)
        if images is None:
            continue
        images, kept = images.to(model.device), [chunk[place] for place in places]
        scored.scores.update(zip(kept, float32_scores(model, images).tolist(), strict=True))
        if maps is not None:
            inputs_places = [first + place for place in places]
            with torch.autocast(model.device.type, enabled=False):
                write_maps(model, images, kept, inputs_places, channels, maps)
        if total > 1:
            log.info("scored batch %d/%d (%d images)", number, total, len(kept))
    return scored


def write_maps(
    model: AnomalyModule,
    images: torch.Tensor,
    paths: list[Path],
    places: list[int],
    channels: int,
    folder: Path,
) -> None:
    """`<n>_<stem>_reconstruction.png` and `<n>_<stem>_map.png` for each image (n: its place
    among the inputs, so two files of one name in two folders never overwrite each other)."""
    reconstructions = model.reconstruction(images)
    if reconstructions is None:
        raise ValueError(
            f"--maps: {type(model).__name__} draws no reconstruction in a forward pass, so it has "
            "no anomaly map; the methods that do: GANomaly, Mem_GANomaly, MemAE, f-AnoGAN, DAGMM"
        )
    amaps = anomaly_maps(images, reconstructions)
    for offset, (path, place) in enumerate(zip(paths, places, strict=True)):
        original = read_image(path, channels, None)
        stem = f"{place:05d}_{path.stem}"
        save_map_pair(folder, stem, original, reconstructions[offset], amaps[offset])


# `--output -`: the CSV on standard output, for a pipe or a glance at one image's score.
STDOUT = Path("-")


def write_csv(path: Path, paths: list[Path], scored: Scored, threshold: Threshold) -> None:
    """A line per input in the order given, to `path` (written whole) or standard output; an
    unreadable image's line has no score or flag, and says why in `error`."""
    if path == STDOUT:
        csv_lines(sys.stdout, paths, scored, threshold)
        return
    with written_whole(path) as partial, partial.open("w", newline="") as f:
        csv_lines(f, paths, scored, threshold)


def csv_lines(out: TextIO, paths: list[Path], scored: Scored, threshold: Threshold) -> None:
    value = "" if threshold.value is None else f"{threshold.value:.8g}"
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for image in paths:
        score = scored.scores.get(image)
        if score is None:
            line = ["", "", value, threshold.source, scored.unreadable[image]]
        else:
            flag = "" if threshold.value is None else int(score > threshold.value)
            line = [f"{score:.8g}", flag, value, threshold.source, ""]
        writer.writerow([str(image), *line])


class Detector:
    """A finished run, loaded once, in one's own code: it scores image files as `predict` does,
    or pixels already read, and gives the run's threshold or one at a chosen false-alarm rate.
    `predict` is this, writing a CSV::

        detector = Detector.load("results", run_key="ganomaly_folder")
        scored = detector.score_files(["shots/a.png", "shots/b.png"])
        threshold = detector.threshold().value  # None: the run held out no normal images
        flagged = [path for path, score in scored.scores.items() if score > threshold]
    """

    def __init__(self, row: dict[str, Any], model: AnomalyModule, data: OneClassDataModule):
        self.row, self.model, self.data = row, model, data

    @classmethod
    def load(
        cls,
        results_dir: str | Path = "results",
        run_key: str | None = None,
        checkpoint: str | Path | None = None,
        device: str | None = None,
    ) -> Detector:
        """The run of `run_key` (its key, or a start of it no other run's key has; none: the
        store's only run) with the weights of `checkpoint` (default: its `last.ckpt`, relative
        to where it trained), on `device` (default: the GPU when there is one)."""
        chosen = scoring_device(device)
        row = find_row(Path(results_dir), run_key)
        base = trained_in(Path(results_dir), row)
        given = None if checkpoint is None else Path(checkpoint)
        model, data = load_run(row, given, chosen, base)
        return cls(row, model, data)

    @property
    def channels(self) -> int:
        """The channels the model was built for (images are converted to them)."""
        return self.model.hparams["in_channels"]

    @property
    def image_size(self) -> int:
        """The side the model was built for (images are resized to it)."""
        return self.model.hparams["image_size"]

    def threshold(
        self, choice: str = "held_out", false_alarm_rate: float | None = None
    ) -> Threshold:
        """The run's threshold (`held_out`, or `youden`: chosen on the test set), or the one
        flagging `false_alarm_rate` of its held-out normal images, scored again."""
        if false_alarm_rate is None:
            return threshold_of(self.row, choice)
        if choice != "held_out":
            raise ValueError(
                f"a false-alarm rate sets the threshold on held-out normals; it cannot go with "
                f"threshold {choice}"
            )
        OPEN_SHARE.check("false_alarm_rate", false_alarm_rate)
        return rate_threshold(self.model, self.data, false_alarm_rate)

    def score_files(
        self,
        paths: Iterable[str | Path],
        batch_size: int = 64,
        maps: Path | None = None,
        skip_unreadable: bool = False,
    ) -> Scored:
        """Each file's score, read as the folder source reads images (`score_files`)."""
        files = [Path(path) for path in paths]
        channels, size = self.channels, self.image_size
        return score_files(self.model, files, channels, size, batch_size, maps, skip_unreadable)

    @torch.no_grad()
    def score_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """Scores [B] of images already read: uint8 [B, channels, image_size, image_size], as
        `data.folder.read_image` gives them (images from a camera, a video, another loader)."""
        shape = (self.channels, self.image_size, self.image_size)
        if pixels.dtype != torch.uint8 or pixels.dim() != 4 or tuple(pixels.shape[1:]) != shape:
            raise ValueError(
                f"pixels: {pixels.dtype} {list(pixels.shape)} is not allowed; allowed: uint8 "
                f"[B, {', '.join(map(str, shape))}] (0-255)"
            )
        return float32_scores(self.model, scale_to_unit_range(pixels).to(self.model.device))


def check_outputs(output: Path, maps: Path | None, export: Path | None) -> None:
    """Where predict writes, checked before a model is loaded or an image read."""
    if output != STDOUT:
        check_target("--output", output)
    if export is not None:
        check_target("--export", export)
    if maps is not None and maps.exists() and not maps.is_dir():
        raise ValueError(f"--maps {maps} is a file; allowed: a folder (made if missing)")


def predict(
    results_dir: Path,
    inputs: list[str],
    output: Path,
    run_key: str | None = None,
    checkpoint: Path | None = None,
    threshold: str = "held_out",
    batch_size: int = 64,
    maps: Path | None = None,
    export: Path | None = None,
    skip_unreadable: bool = False,
    false_alarm_rate: float | None = None,
    device: str | None = None,
) -> Prediction:
    """Score `inputs` with a finished run into the CSV `output`. With `maps`, a folder for each
    image's reconstruction and anomaly map; with `export`, the scoring graph as an ONNX file,
    checked against the model on the first batch of the images scored; with `skip_unreadable`,
    an image that cannot be read is left unscored, its line saying why; with
    `false_alarm_rate`, the flags are set at the threshold flagging that share of the run's
    held-out normal images."""
    check_outputs(output, maps, export)
    detector = Detector.load(results_dir, run_key, checkpoint, device)
    if export is not None:
        check_exportable(detector.model)
    paths = image_paths(inputs)
    chosen = detector.threshold(threshold, false_alarm_rate)
    scored = detector.score_files(paths, batch_size, maps, skip_unreadable)
    write_csv(output, paths, scored, chosen)
    if not scored.scores:
        raise ValueError(f"none of the {len(paths)} images could be read; {output} says why")
    if export is not None:
        first = list(scored.scores)[:batch_size]
        checked = scale_to_unit_range(stack(first, detector.channels, detector.image_size))
        difference = export_onnx(detector.model, checked, export)
        log.info(
            "ONNX scoring graph in %s: onnxruntime's scores of %d images within %.2g of PyTorch's",
            export,
            len(checked),
            difference,
        )
    return Prediction(scored, chosen)
