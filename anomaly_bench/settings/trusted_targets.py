"""What a config read back from a file may build.

A run folder's `.hydra/config.yaml` or a row's saved `config` is data written by whoever made the
folder: a colleague's results dir must be as safe to read as a checkpoint. Hydra's instantiate
calls any importable callable a `_target_` names (`pathlib.Path.write_text` writes a file), so a
tool that rebuilds something from a saved config first checks that every `_target_` in it is one
the package's own `conf/` uses, or one that the folder of the user's own configs uses
(`ANOMALY_BENCH_CONFIGS`, a detector of their own: set where they run the tool, never read from
the folder it reads).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from anomaly_bench import CONF_DIR
from anomaly_bench.settings.environment import CONFIGS_VARIABLE, own_configs


def _targets(node: Any) -> Iterator[str]:
    """Every `_target_` value in a nested config (mappings and lists)."""
    if isinstance(node, DictConfig | ListConfig):
        node = OmegaConf.to_container(node, resolve=False)
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "_target_":
                yield str(value)
            else:
                yield from _targets(value)
    elif isinstance(node, list):
        for value in node:
            yield from _targets(value)


@cache
def _targets_under(folder: Path) -> frozenset[str]:
    """The `_target_`s of every yaml under `folder`."""
    return frozenset(
        target
        for path in folder.rglob("*.yaml")
        for target in _targets(OmegaConf.to_container(OmegaConf.load(path), resolve=False))
    )


def allowed_targets() -> frozenset[str]:
    """The `_target_`s of the package's conf/ and of the user's own configs, when given."""
    own = own_configs()
    return _targets_under(CONF_DIR) | (frozenset() if own is None else _targets_under(own))


def check_targets(node: Any, source: str) -> None:
    """Refuse a saved config that would build anything but the package's own classes and those
    the user's own configs name."""
    for target in _targets(node):
        if target not in allowed_targets():
            raise ValueError(
                f"{source}: _target_ {target!r} is not one of this package's own targets, so it "
                f"is not built; allowed: {', '.join(sorted(allowed_targets()))}, and those your "
                f"own configs name ({CONFIGS_VARIABLE}=<their folder>: a detector of your own)"
            )
