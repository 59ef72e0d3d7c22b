"""OmegaConf resolvers the configs use; registered when the package is imported."""

from __future__ import annotations

from omegaconf import OmegaConf

from anomaly_bench.store.run_identity import run_key


def scale_epochs(total: int, share: float) -> int:
    """`${scale_epochs:${trainer.max_epochs},0.5}`: a stage's share of the epoch budget, >= 1.

    Two-stage methods (f-AnoGAN, Deep SVDD) split `trainer.max_epochs` this way, so scaling the
    budget (`trainer.max_epochs=...`, `make reproduce-* EPOCHS=...`) keeps both stages.
    """
    return max(1, int(int(total) * float(share)))


def register_resolvers() -> None:
    """`${run_key:}` (the run's identity, see run_identity.py) and `${scale_epochs:...}`."""
    if not OmegaConf.has_resolver("run_key"):
        OmegaConf.register_new_resolver("run_key", lambda *, _root_: run_key(_root_))
    if not OmegaConf.has_resolver("scale_epochs"):
        OmegaConf.register_new_resolver("scale_epochs", scale_epochs)
