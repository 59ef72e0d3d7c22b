"""Training and scoring speed of one method as a run trains it, on random images of real size.

Each case runs in a fresh process (`measure_in_subprocess`), so its peak memory is its own and
no compiled graph or cuDNN plan carries over from the case before.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import lightning as L
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from anomaly_bench import CONF_DIR
from anomaly_bench.benchmarks.processes import in_fresh_processes
from anomaly_bench.benchmarks.timing import StepClock, peak_memory_mb
from anomaly_bench.data import ImageSplits, OneClassDataModule
from anomaly_bench.engine.runtime import device_name, instantiate
from anomaly_bench.models.base import AnomalyModule
from anomaly_bench.settings.bench_settings import BenchSettings
from anomaly_bench.settings.method_facts import first_stage_key

# Each two-stage method's key for its first stage's epochs: 0 starts training in the second stage.
# The datasets whose per-dataset settings (Mem_GANomaly's memory size) a case takes, by channels.
DATASET_OF_CHANNELS = {1: "mnist", 3: "cifar10"}
# GANomaly through the ordinary DataLoader, beside its default device-path case.
DATALOADER_CASE = "ganomaly dataloader"


def second_stage_label(method: str) -> str:
    """The case that times a two-stage method in its second stage."""
    return f"{method} stage 2"


class RandomImages(OneClassDataModule):
    """A dataset's shape and settings with random pixels: speed does not depend on content."""

    def __init__(self, n_train: int, n_test: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_train_images, self.n_test_images = n_train, n_test

    def load_splits(self) -> ImageSplits:
        generator = torch.Generator().manual_seed(self.seed)
        shape = (self.num_channels, self.image_size, self.image_size)

        def images(n: int) -> torch.Tensor:
            return torch.randint(0, 256, (n, *shape), generator=generator, dtype=torch.uint8)

        other_class = (self.normal_class + 1) % len(self.class_names)
        test_labels = torch.tensor([self.normal_class, other_class]).repeat(self.n_test_images)
        return ImageSplits(
            images(self.n_train_images),
            torch.full((self.n_train_images,), self.normal_class),
            images(self.n_test_images),
            test_labels[: self.n_test_images],
        )


@dataclass(frozen=True)
class BenchCase:
    """One measurement: a method, its config overrides, and the shape it runs on."""

    label: str
    method: str
    channels: int
    overrides: tuple[str, ...] = ()
    stage: int = 1


def compose_case(
    case: BenchCase, settings: BenchSettings, extra: tuple[str, ...] = ()
) -> DictConfig:
    overrides = [
        f"model={case.method}",
        f"data={DATASET_OF_CHANNELS[case.channels]}",
        *settings.overrides,
        *case.overrides,
        *extra,
    ]
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose("train", overrides=overrides)


def search_steps_cap(cfg: DictConfig, settings: BenchSettings) -> tuple[int, int] | None:
    """(configured, timed) search steps when the score searches the latent space longer than the
    cap: the search's time is linear in its steps, so its rate is scaled to the configured count."""
    steps = cfg.model.get("search", {}).get("steps")
    if cfg.model.get("score") != "latent_search" or steps is None:
        return None
    return (steps, min(steps, settings.max_search_steps))


def build_case(
    case: BenchCase, settings: BenchSettings
) -> tuple[DictConfig, RandomImages, AnomalyModule, tuple[int, int] | None]:
    """The case's config, random images for its timed batches, its model, and the latent
    search's (configured, timed) steps where the search is capped."""
    cfg = compose_case(case, settings)
    search = search_steps_cap(cfg, settings)
    if search is not None:
        cfg = compose_case(case, settings, (f"model.search.steps={search[1]}",))
    data_kwargs = OmegaConf.to_container(cfg.data, resolve=True)
    data_kwargs.pop("_target_")
    n_train = (settings.train_warmup + settings.train_steps) * data_kwargs["batch_size"]
    n_test = (settings.score_warmup + settings.score_batches) * data_kwargs["eval_batch_size"]
    data = RandomImages(n_train, n_test, **data_kwargs)
    model = instantiate(cfg.model, image_size=data.image_size, in_channels=data.num_channels)
    return cfg, data, model, search


def fit_and_score(
    cfg: DictConfig, data: RandomImages, model: AnomalyModule, callbacks: list[L.Callback]
) -> torch.device:
    """One epoch of the case's batches, then the test split, as a run does them (the case's
    speed settings on); the device it ran on."""
    with tempfile.TemporaryDirectory(prefix="anomaly-bench-") as root:
        trainer = instantiate(
            cfg.trainer,
            default_root_dir=root,
            callbacks=[*callbacks, instantiate(cfg.callbacks.speedups)],
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            limit_val_batches=0,
        )
        device = trainer.strategy.root_device
        if device.type == "cuda":
            # The allocator's statistics exist only once CUDA is initialised (torch 2.11 raises
            # "Invalid device argument" before that).
            torch.cuda.init()
            torch.cuda.reset_peak_memory_stats(device)
        trainer.fit(model, datamodule=data)
        trainer.test(model, datamodule=data, verbose=False)
    return device


def measure(case: BenchCase, settings: BenchSettings) -> dict[str, Any]:
    """Train `train_warmup + train_steps` batches and score `score_warmup + score_batches`."""
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    cfg, data, model, search = build_case(case, settings)
    clock = StepClock(settings.train_warmup, settings.score_warmup)
    device = fit_and_score(cfg, data, model, [clock])
    score_rate = clock.score.images_per_second
    if search is not None:
        score_rate *= search[1] / search[0]
    return {
        **asdict(case),
        "device": device_name(device),
        "precision": str(cfg.trainer.get("precision")),
        "batch_size": data.batch_size,
        "eval_batch_size": data.eval_batch_size,
        "train_images_per_second": round(clock.train.images_per_second, 1),
        "score_images_per_second": round(score_rate, 1),
        "score_search_steps_timed": None if search is None else search[1],
        "score_search_steps_configured": None if search is None else search[0],
        **peak_memory_mb(device),
    }


def measure_in_subprocess(
    case: BenchCase,
    settings: BenchSettings,
    work: Callable[[BenchCase, BenchSettings], dict[str, Any]] = measure,
) -> dict[str, Any]:
    """`work` in one fresh process."""
    return in_fresh_processes(work, case, settings)[0]


def method_cases(methods: list[str], channels: list[int]) -> list[BenchCase]:
    """Every method at its config; the second stage of two-stage methods; GANomaly's
    DataLoader input path beside its default device path."""
    cases = []
    for n_channels in channels:
        for method in methods:
            case = BenchCase(method, method, n_channels)
            cases.append(case)
            key = first_stage_key(method)
            if key is not None:
                cases.append(
                    BenchCase(
                        second_stage_label(method), method, n_channels, (f"model.{key}=0",), 2
                    )
                )
            if method == "ganomaly":
                cases.append(
                    BenchCase(DATALOADER_CASE, method, n_channels, ("data.input_path=dataloader",))
                )
    return cases
