"""How long `make bench` times each phase: read by its command line before anything is built
(its defaults are the options' defaults) and by the benchmarks that time."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BenchSettings:
    """How long each phase is timed, and the overrides every case gets (e.g. trainer=gpu)."""

    train_warmup: int = 3
    train_steps: int = 30
    score_warmup: int = 1
    score_batches: int = 20
    max_search_steps: int = 20
    overrides: tuple[str, ...] = field(default_factory=tuple)
