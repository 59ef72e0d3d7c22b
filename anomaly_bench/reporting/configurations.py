"""Rows -> columns: every table cell averages rows of one configuration only.

A row's configuration is `run_identity.configuration` of the config it saved. One method run
under several configurations (two budgets, two encoders, a test-set switch) gets one column per
configuration, labelled by what differs from the method's yaml defaults for that dataset:
`ganomaly`, `ganomaly (epochs 2)`, `fanogan (encoder ziz)`. Rows written without a config (older
stores, hand-made rows) form one column per method.

The label is computed here, when a report reads the rows, and never stored in a row (the digest
is): it names what differs from today's yaml defaults, so a label written into a row would keep
the defaults of the day it ran and mislabel the run once a default changes.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from anomaly_bench import CONF_DIR
from anomaly_bench.store.row_upgrades import config_today
from anomaly_bench.store.run_identity import configuration
from anomaly_bench.store.run_identity import digest as config_digest

log = logging.getLogger(__name__)

# What a row's saved config needs for its configuration to be known.
IDENTITY_PARTS = {"model", "data", "trainer", "seed"}
# How a differing key reads in a column label; other keys read as `<key> <value>`.
KEY_WORDS = {
    "max_epochs": "epochs",
    "limit_train_batches": "train batches",
    "data.train_batches": "CIFAR-10 training batches",
}
# Where a folder run's images are: which dataset it is, so they name its table, not a column
# (two folders are two datasets, never two columns of one table).
FOLDER_PLACES = ("root", "normal_dir", "abnormal_dir", "normal_test_dir")


@dataclass(frozen=True)
class Column:
    """One configuration of one method: what a table column (and its cells) stands for."""

    method: str
    label: str
    digest: str


def flatten(node: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings to dotted keys; lists and scalars are leaves."""
    flat: dict[str, Any] = {}
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat |= flatten(value, f"{name}.")
        else:
            flat[name] = value
    return flat


def _unlabelled(method: str, dataset: str, err: Exception) -> None:
    why = str(err).splitlines()[0]  # Hydra's goes on to list every option and search path
    log.warning("no yaml defaults for %s on %s (%s): labelled by digest", method, dataset, why)


@functools.cache
def _composed_defaults(method: str, dataset: str) -> Any:
    """The method's yaml defaults on the dataset, composed and not resolved; cached, because a
    composition costs a tenth of a second and each budget of a method needs the same one. None
    where Hydra cannot compose them (a model or dataset with no yaml in conf/ or in the user's
    own configs), said once."""
    from hydra import compose, initialize_config_dir

    try:
        with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            return compose("train", overrides=[f"model={method}", f"data={dataset}"])
    except Exception as err:  # any failure only costs the label its detail
        _unlabelled(method, dataset, err)
        return None


@functools.cache
def _default_configuration(method: str, dataset: str, max_epochs: int | None) -> str | None:
    """The defaults' configuration as JSON (cached), at `max_epochs` when given: set before
    anything resolves, as a Hydra override is, so settings the yaml derives from the budget
    (Deep SVDD's pretrain_epochs, f-AnoGAN's gan_epochs) follow it. None where they cannot be
    composed or resolved."""
    composed = _composed_defaults(method, dataset)
    if composed is None:
        return None
    cfg = copy.deepcopy(composed)
    if max_epochs is not None:
        cfg.trainer.max_epochs = max_epochs
    try:
        return json.dumps(configuration(cfg), default=str)
    except Exception as err:  # any failure only costs the label its detail
        _unlabelled(method, dataset, err)
        return None


def default_configuration(
    method: str, dataset: str, max_epochs: int | None = None
) -> dict[str, Any] | None:
    text = _default_configuration(method, dataset, max_epochs)
    return None if text is None else json.loads(text)


_MISSING = object()


def describe(key: str, value: Any) -> str:
    """How a setting that differs from the defaults reads in a column label."""
    if key == "select_epoch_on_test":
        return "epoch chosen on test" if value else "last epoch"
    name = KEY_WORDS.get(key, key.split(".", 1)[-1])
    return f"{name} {'(unset)' if value is _MISSING else value}"


def differences(config: Mapping[str, Any], default: Mapping[str, Any]) -> list[str]:
    """What `config` changes against `default`, as label fragments in a stable order."""
    ours, theirs = flatten(config), flatten(default)
    keys = (set(ours) | set(theirs)) - {f"data.{place}" for place in FOLDER_PLACES}
    changed = [k for k in keys if ours.get(k, _MISSING) != theirs.get(k, _MISSING)]
    order = {"max_epochs": 0, "select_epoch_on_test": 1, "limit_train_batches": 2}
    changed.sort(key=lambda k: (order.get(k, len(order)), k))
    return [describe(k, ours.get(k, _MISSING)) for k in changed]


def table_dataset(row: Mapping[str, Any]) -> str:
    """The dataset a row's table is about: its name, and for a folder of one's own images, which
    folders (`folder shots (normal_dir good, abnormal_dir defect)`)."""
    data = (row.get("config") or {}).get("data") or {}
    if row.get("dataset") != "folder" or not data.get("root"):
        return row["dataset"]
    places = ", ".join(f"{place} {data[place]}" for place in FOLDER_PLACES[1:] if data.get(place))
    return f"folder {data['root']} ({places})"


def column_of(row: Mapping[str, Any]) -> Column:
    """The column a row belongs to (method + configuration) and its label."""
    method = row["method"]
    saved = config_today(row) or {}
    if not saved.keys() >= IDENTITY_PARTS:
        return Column(method, method, "")
    config = configuration(saved)
    digest = config_digest(config)
    dataset, epochs = row.get("dataset", ""), config["max_epochs"]
    default = default_configuration(method, dataset)
    at_budget = default_configuration(method, dataset, epochs if isinstance(epochs, int) else None)
    if default is None or at_budget is None:
        return Column(method, f"{method} ({digest})", digest)
    # Against the defaults at this budget, so a stage split the yaml derives from the epochs
    # (Deep SVDD's pretrain_epochs, f-AnoGAN's gan_epochs) is not a difference of its own.
    changed = differences(config, at_budget)
    if epochs != default["max_epochs"]:
        changed.insert(0, describe("max_epochs", epochs))
    return Column(method, f"{method} ({', '.join(changed)})" if changed else method, digest)


def columns(rows: Iterable[Mapping[str, Any]]) -> dict[Column, list[Mapping[str, Any]]]:
    """Rows grouped by column; each method's default configuration first, then by label.

    Two configurations whose labels would read alike (a method without yaml defaults) keep
    apart through their digests.
    """
    grouped: dict[Column, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(column_of(row), []).append(row)
    ordered = sorted(grouped, key=lambda c: (c.method, c.label != c.method, c.label))
    return {column: grouped[column] for column in ordered}


def matches(row: Mapping[str, Any], key: str, wanted: str) -> bool:
    """`--where KEY=VALUE`: a row field (`max_epochs`, `method`) or a dotted key of the row's
    saved config (`model.encoder`, `trainer.max_epochs`) equal to VALUE (read as YAML, so
    `15`, `0.002`, `true` compare as numbers and booleans)."""
    value = _lookup(row, key)
    if value is _MISSING:
        value = _lookup(row.get("config") or {}, key)
    if value is _MISSING:
        return False
    return value == yaml.safe_load(wanted) or str(value) == wanted


def _lookup(node: Mapping[str, Any], key: str) -> Any:
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def parse_where(conditions: Iterable[str]) -> list[tuple[str, str]]:
    """`KEY=VALUE` strings to pairs; anything else is refused naming it."""
    pairs = []
    for condition in conditions:
        key, sep, value = condition.partition("=")
        if not sep or not key:
            raise ValueError(f"--where {condition!r} is not allowed; allowed: KEY=VALUE")
        pairs.append((key, value))
    return pairs


def where(rows: Iterable[Mapping[str, Any]], conditions: list[tuple[str, str]]) -> list:
    """The rows that satisfy every condition."""
    return [row for row in rows if all(matches(row, k, v) for k, v in conditions)]
