"""A trained run scoring new images: its row and checkpoint back into a model, image files in,
one CSV line per image out.

The model is rebuilt from the config the run saved in its row (every `_target_` checked against
the package's own, `settings/trusted_targets.py`) and its `last.ckpt`, loaded with
`weights_only=True`. Methods whose score needs statistics of the training set (iForest's forest,
DAGMM's mixture, WGAN's critic mean) refit them from the run's own training data, rebuilt from the
same config. Images go through the folder source's reader (`data/folder.py`): converted to the
run's channels, resized to its image size, refused by name when they cannot be read.

A flag needs a threshold chosen without anomalies: the one the run chose on its held-out normal
images (`data.val_fraction > 0`: the threshold flagging `val_false_alarm_target` of them). The
Youden threshold, chosen on the test set, is used only when asked for, and the CSV says so.
"""

from __future__ import annotations

import csv
import glob
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from anomaly_bench.data.batches import scale_to_unit_range
from anomaly_bench.data.folder import IMAGE_SUFFIXES, images_in, read_image, stack
from anomaly_bench.data.one_class import OneClassDataModule
from anomaly_bench.engine.callbacks.last_checkpoint import LAST
from anomaly_bench.engine.onnx_export import export_onnx
from anomaly_bench.engine.runtime import instantiate
from anomaly_bench.engine.trained_model import load_trained
from anomaly_bench.evaluation.anomaly_maps import anomaly_maps, save_map_pair
from anomaly_bench.models.base import AnomalyModule
from anomaly_bench.settings.trusted_targets import check_targets
from anomaly_bench.store.results import ResultsStore

log = logging.getLogger(__name__)

# How a flag's threshold was chosen: the row's key for it, and what the CSV calls it.
THRESHOLDS = {
    "held_out": ("val_threshold", "held-out normals"),
    "youden": ("youden_threshold", "test-set Youden (chosen on the test set)"),
}
CSV_COLUMNS = ("path", "score", "flag", "threshold", "threshold_source")


@dataclass(frozen=True)
class Threshold:
    value: float | None
    source: str


def find_row(results_dir: Path, run_key: str | None) -> dict[str, Any]:
    """The run's latest `ok` row; without a key, the store's only run (else the keys to pick)."""
    store = ResultsStore(results_dir)
    if not store.path.is_file():
        raise FileNotFoundError(f"--results-dir {results_dir} holds no {store.path.name}")
    if run_key is not None:
        row = store.latest_ok(run_key)
        if row is None:
            raise ValueError(f"--run-key {run_key} has no ok row in {store.path}")
        return row
    keys = sorted({row["run_key"] for row in store.read() if row["status"] == "ok"})
    if len(keys) != 1:
        raise ValueError(
            f"{store.path} holds {len(keys)} finished runs; choose one with --run-key: "
            + ", ".join(keys[:20])
        )
    return store.latest_ok(keys[0])


def load_run(
    row: dict[str, Any], checkpoint: Path | None, device: torch.device
) -> tuple[AnomalyModule, OneClassDataModule]:
    """The run's trained model, ready to score (its training-set statistics refitted), and its
    data module, set up."""
    config = row["config"]
    check_targets({"model": config["model"], "data": config["data"]}, f"run {row['run_key']}")
    path = checkpoint or Path(config["paths"]["checkpoint_dir"]) / LAST
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {path}: run predict from the folder the run trained in "
            "(paths are relative to it) or pass --checkpoint"
        )
    data = instantiate(config["data"])
    data.setup("fit")
    model = load_trained(config["model"], data, path, device)
    model.use_training_data(data)
    with torch.no_grad():
        model.prepare_scoring()
    return model, data


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


def batches_of(paths: list[Path], size: int) -> Iterator[list[Path]]:
    for start in range(0, len(paths), size):
        yield paths[start : start + size]


def threshold_of(row: dict[str, Any], choice: str) -> Threshold:
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


@torch.no_grad()
def score_files(
    model: AnomalyModule,
    paths: list[Path],
    channels: int,
    size: int,
    batch_size: int,
    maps: Path | None = None,
) -> Tensor:
    """Float32 scores of the images, batch by batch, as the test loop scores them; with `maps`,
    each image's reconstruction and anomaly map written there as it is scored."""
    scores = []
    total = -(-len(paths) // batch_size)
    for number, chunk in enumerate(batches_of(paths, batch_size), start=1):
        images = scale_to_unit_range(stack(chunk, channels, size)).to(model.device)
        with torch.autocast(model.device.type, enabled=False):
            scores.append(model.anomaly_score(images).float().cpu())
            if maps is not None:
                first = (number - 1) * batch_size
                write_maps(model, images, chunk, first, channels, maps)
        if total > 1:
            log.info("scored batch %d/%d (%d images)", number, total, len(chunk))
    return torch.cat(scores)


def write_maps(
    model: AnomalyModule,
    images: Tensor,
    paths: list[Path],
    first: int,
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
    for offset, path in enumerate(paths):
        original = read_image(path, channels, None)
        stem = f"{first + offset:05d}_{path.stem}"
        save_map_pair(folder, stem, original, reconstructions[offset], amaps[offset])


def write_csv(path: Path, paths: list[Path], scores: Tensor, threshold: Threshold) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for image, score in zip(paths, scores.tolist(), strict=True):
            flag = "" if threshold.value is None else int(score > threshold.value)
            value = "" if threshold.value is None else f"{threshold.value:.8g}"
            writer.writerow([str(image), f"{score:.8g}", flag, value, threshold.source])


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
) -> Path:
    """Score `inputs` with a finished run; the CSV's path. With `maps`, a folder for each
    image's reconstruction and anomaly map; with `export`, the scoring graph as an ONNX file,
    checked against the model on the first batch of `inputs`."""
    row = find_row(results_dir, run_key)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, _ = load_run(row, checkpoint, device)
    paths = image_paths(inputs)
    # The channels and size the model was built for (every model saves both).
    channels, size = model.hparams["in_channels"], model.hparams["image_size"]
    scores = score_files(model, paths, channels, size, batch_size, maps)
    write_csv(output, paths, scores, threshold_of(row, threshold))
    if export is not None:
        checked = scale_to_unit_range(stack(paths[:batch_size], channels, size))
        difference = export_onnx(model, checked, export)
        log.info(
            "ONNX scoring graph in %s: onnxruntime's scores of %d images within %.2g of PyTorch's",
            export,
            len(checked),
            difference,
        )
    return output
