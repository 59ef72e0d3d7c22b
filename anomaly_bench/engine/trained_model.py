"""A method's model built from a run's config, and a trained one restored from its checkpoint:
a finished run found in its results store by its key, rebuilt ready to score.

Training and every later use of a run (predict, its pictures, the memory's sparsity) build the
model this one way, from the run's config, so a checkpoint only ever supplies weights: loaded
with `weights_only=True`, it can name no class to build and run no code, and a model whose
constructor changed still loads every checkpoint its weights fit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from anomaly_bench.data.one_class import OneClassDataModule
from anomaly_bench.engine.callbacks.last_checkpoint import LAST
from anomaly_bench.engine.runtime import instantiate
from anomaly_bench.models.base import AnomalyModule
from anomaly_bench.settings.trusted_targets import check_targets
from anomaly_bench.store.results import ResultsStore, is_smoke, latest_ok_rows, no_store_message
from anomaly_bench.store.run_identity import smoke_settings

log = logging.getLogger(__name__)


def build_model(model: Any, datamodule: Any) -> AnomalyModule:
    """The configured model (a `model` config node) for the datamodule's images."""
    return instantiate(model, image_size=datamodule.image_size, in_channels=datamodule.num_channels)


def load_trained(
    model: Any, datamodule: Any, checkpoint: Path, device: torch.device | str = "cpu"
) -> AnomalyModule:
    """The configured model with the checkpoint's weights (after the model's own
    `on_load_checkpoint`, which renames an older file's keys), in eval mode on `device`."""
    built = build_model(model, datamodule)
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    built.on_load_checkpoint(saved)
    built.load_state_dict(saved["state_dict"])
    return built.to(device).eval()


# How many of a store's run keys an error lists before it counts the rest.
KEYS_LISTED = 20


def run_of(keys: list[str], run_key: str | None, store: Path) -> str:
    """The finished run `--run-key` names: a key, or a start of one that only it has
    (`ganomaly_mnist_class3`); without it, the store's only run."""
    matching = [key for key in keys if key.startswith(run_key or "")]
    if len(matching) == 1:
        return matching[0]
    if not matching:
        raise ValueError(
            f"--run-key {run_key}: no finished run in {store} has that key or one starting so"
            if run_key
            else f"{store} holds no finished run"
        )
    listed = ", ".join(matching[:KEYS_LISTED])
    more = len(matching) - KEYS_LISTED
    starting = f" whose keys start {run_key}" if run_key else ""
    raise ValueError(
        f"{store} holds {len(matching)} finished runs{starting}; choose one with --run-key (a "
        f"start of its key that no other run's has is enough; `anomaly-bench report --runs` lists "
        f"them): {listed}" + (f", and {more} more" if more > 0 else "")
    )


def existing_store(results_dir: Path) -> ResultsStore:
    """The results store at `results_dir`, refused naming it when it holds no rows file (a
    mistyped --results-dir is not an empty store)."""
    store = ResultsStore(results_dir)
    if not store.path.is_file():
        raise FileNotFoundError(no_store_message(results_dir))
    return store


def find_row(results_dir: Path, run_key: str | None) -> dict[str, Any]:
    """The run's latest `ok` row: by its key, a start of its key, or, without one, the store's only
    run. A smoke test's run scores too (trying predict on one is how a newcomer starts), with a
    warning that its model saw a few batches only."""
    store = existing_store(results_dir)
    row = None if run_key is None else store.latest_ok(run_key, with_smoke=True)
    if row is None:
        keys = sorted({row["run_key"] for row in store.read() if row["status"] == "ok"})
        run_key = run_of(keys, run_key, store.path)
        row = store.latest_ok(run_key, with_smoke=True)
    if is_smoke(row):
        cut_short = smoke_settings(row["config"]["trainer"])
        log.warning(
            "run %s is a smoke test (%s): its model trained on a few batches only",
            run_key,
            ", ".join(f"trainer.{key}={value}" for key, value in cut_short.items()),
        )
    return row


def runs_named(store: ResultsStore, run_keys: list[str] | None) -> list[dict[str, Any]]:
    """The latest ok row of each run (smoke tests too): every run's, or those whose keys start
    with one of `run_keys` (`ganomaly_mnist`: every GANomaly MNIST run), each of which must name
    one (pictures, memory-sparsity)."""
    latest = {row["run_key"]: row for row in latest_ok_rows(store.read(), with_smoke=True)}
    if run_keys is None:
        return list(latest.values())
    missing = [given for given in run_keys if not any(key.startswith(given) for key in latest)]
    if missing:
        raise ValueError(
            f"--run-key {', '.join(missing)}: no ok row in {store.path} has that key or one "
            "starting so"
        )
    return [row for key, row in latest.items() if key.startswith(tuple(run_keys))]


def read_splits(data: OneClassDataModule, why: str) -> None:
    """The run's splits, read again from where the run read them; what is missing there is named
    with why predict needs it."""
    try:
        data.setup("fit")
    except (ValueError, FileNotFoundError) as err:
        raise ValueError(f"{why}, read again from where the run read them: {err}") from err


class TrainingImagesOnDemand:
    """A run's data module whose images are read only when a method's score asks for its
    training images (iForest's forest, DAGMM's mixture, a WGAN critic's mean). The other methods
    score new images without reading the training set, so without it: a folder moved or left on
    the machine that trained, and no minute of decoding a large folder before every call."""

    def __init__(self, data: OneClassDataModule) -> None:
        self.data = data

    def train_dataloader(self) -> Iterable:
        read_splits(self.data, "this method's score is fitted on the run's training images")
        return self.data.train_dataloader()


def scoring_device(name: str | None) -> torch.device:
    """The device `name` says (None: the GPU when there is one, else the CPU), refused naming
    it when torch cannot parse it or this machine has no such device."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r} is not allowed; allowed: cpu, cuda, cuda:N")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ValueError(
            f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s); "
            "allowed: cpu" + (", cuda, cuda:N" if torch.cuda.is_available() else "")
        )
    return device


# The data settings that name a place: relative ones start where the run trained.
DATA_PLACES = ("data_dir", "root")


def trained_in(results_dir: Path, row: dict[str, Any]) -> Path:
    """The folder the run trained in, seen from here: its store's path as given, less the
    relative `paths.results_dir` the run wrote to (`../results` for a run that wrote `results`
    gives `..`: a notebook in `notebooks/`). Here, when the two do not line up."""
    wrote_to = Path(row["config"]["paths"]["results_dir"])
    depth = len(wrote_to.parts)
    if wrote_to.is_absolute() or results_dir.parts[-depth:] != wrote_to.parts:
        return Path(".")
    return Path(*results_dir.parts[:-depth])


def run_data(row: dict[str, Any], base: Path = Path(".")) -> OneClassDataModule:
    """The run's data module, not set up (no file read), its relative places starting at `base`;
    the row's model and data targets are checked first, as every rebuild of a run checks them."""
    config = row["config"]
    check_targets({"model": config["model"], "data": config["data"]}, f"run {row['run_key']}")
    data_config = config["data"]
    places = {key: str(base / data_config[key]) for key in DATA_PLACES if data_config.get(key)}
    return instantiate({**data_config, **places})


def load_run(
    row: dict[str, Any], checkpoint: Path | None, device: torch.device, base: Path = Path(".")
) -> tuple[AnomalyModule, OneClassDataModule]:
    """The run's trained model, ready to score (its training-set statistics refitted), and its
    data module, not set up: `setup()` reads its splits when a caller wants them. The row's
    relative paths (its checkpoint, its data) start at `base`, the folder the run trained in."""
    data = run_data(row, base)
    path = checkpoint or base / row["config"]["paths"]["checkpoint_dir"] / LAST
    if not path.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {path}: give the results store's path as the run wrote it (its "
            "relative paths start where it trained), or pass --checkpoint"
        )
    model = load_trained(row["config"]["model"], data, path, device)
    model.use_training_data(TrainingImagesOnDemand(data))
    with torch.no_grad():
        model.prepare_scoring()
    return model, data
