"""What a paper grid (`conf/experiment/<name>.yaml`) runs, and how many images a run of it sees,
read before anything is built: for the time estimates of the benchmarks and the GPU queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from anomaly_bench import CONF_DIR

# Official split sizes (train, test) of the paper's datasets; all three have ten classes, equal
# in size in CIFAR-10 and Fashion-MNIST and nearly so in MNIST.
OFFICIAL_SPLITS = {
    "mnist": (60_000, 10_000),
    "fmnist": (60_000, 10_000),
    "cifar10": (50_000, 10_000),
}
N_CLASSES = 10
# Each dataset's folder in the data folder, as its reader and its checksum manifest name it.
DATA_FOLDERS = {"cifar10": "cifar-10-batches-py/", "mnist": "MNIST/", "fmnist": "FashionMNIST/"}
# The GPU queue's steps, in order (docs/gpu_session.md).
QUEUE_FILE = CONF_DIR / "queue" / "gpu.yaml"


def paper_protocol_sizes(dataset: str) -> tuple[int, int]:
    """(normal training images, test images) of one class under the paper protocol: the test
    split plus the training split's nine other classes."""
    train, test = OFFICIAL_SPLITS[dataset]
    per_class = train // N_CLASSES
    return per_class, test + train - per_class


def protocol_sizes(dataset: str, protocol: str) -> tuple[int, int]:
    """(training images, test images) of one run of `protocol` on the whole dataset: paper as
    above; standard: one class's training images, the test split; leave_one_out: nine classes'
    training images, the test split plus the anomalous class's training images."""
    train, test = OFFICIAL_SPLITS[dataset]
    per_class = train // N_CLASSES
    if protocol == "leave_one_out":
        return train - per_class, test + per_class
    if protocol == "standard":
        return per_class, test
    return paper_protocol_sizes(dataset)


def sweep_values(key: str, value: Any) -> list[str]:
    """A sweeper param expanded as Hydra expands it (`a,b,c`, `range(10)`)."""
    [override] = OverridesParser.create().parse_overrides([f"{key}={value}"])
    return (
        [str(v) for v in override.sweep_iterator()]
        if override.is_sweep_override()
        else [str(value)]
    )


def experiment_grid(conf_dir: Path, name: str) -> dict[str, list[str]]:
    """The sweep of one conf/experiment/ grid: methods, classes, seeds, and its dataset."""
    experiment = OmegaConf.load(conf_dir / "experiment" / f"{name}.yaml")
    params = experiment.hydra.sweeper.params
    dataset_default = next(d for d in experiment.defaults if "override /data" in d)
    return {
        "dataset": [dataset_default["override /data"]],
        **{key: sweep_values(key, value) for key, value in params.items()},
    }
