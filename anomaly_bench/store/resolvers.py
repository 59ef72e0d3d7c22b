"""OmegaConf resolvers the configs use; registered when the package is imported."""

from __future__ import annotations

from omegaconf import OmegaConf

from anomaly_bench.settings.environment import own_configs
from anomaly_bench.settings.protocols import class_tag, default_normal_class
from anomaly_bench.store.run_identity import run_key


def scale_epochs(total: int, share: float) -> int:
    """`${scale_epochs:${trainer.max_epochs},0.5}`: a stage's share of the epoch budget, >= 1.

    Two-stage methods (f-AnoGAN, Deep SVDD) split `trainer.max_epochs` this way, so scaling the
    budget (`trainer.max_epochs=...`, `make reproduce-* EPOCHS=...`) keeps both stages.
    """
    return max(1, int(int(total) * float(share)))


def own_configs_path() -> str:
    """`${own_configs:}`, train.yaml's Hydra search path: the folder of one's own configs
    (`ANOMALY_BENCH_CONFIGS`); unset, Hydra's own configs, which are on the path already."""
    folder = own_configs()
    return "pkg://hydra.conf" if folder is None else f"file://{folder}"


RESOLVERS = {
    "scale_epochs": scale_epochs,
    # The protocol's class: `${default_normal_class:${data.protocol}}` and, for folder and W&B
    # names, `${class_tag:${data.protocol},${data.normal_class},${data.anomalous_class}}`.
    "default_normal_class": default_normal_class,
    "class_tag": class_tag,
    "own_configs": own_configs_path,
}


def register_resolvers() -> None:
    """`${run_key:}` (the run's identity, see run_identity.py) and the `RESOLVERS`."""
    if not OmegaConf.has_resolver("run_key"):
        OmegaConf.register_new_resolver("run_key", lambda *, _root_: run_key(_root_))
    for name, resolver in RESOLVERS.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)
