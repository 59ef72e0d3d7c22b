"""What makes two runs the same run, and two rows the same experiment.

A run's *key* finds its checkpoint and its `ok` row: a rerun with the same method, data, seed and
budget resumes from the first one's `last.ckpt` (a killed run loses at most an epoch) and, with
`skip_done=true`, is skipped once an `ok` row carries its key. Anything that changes what is
trained changes the key: the whole model config, the data config (except where the files are),
the seed, the epoch budget, any training-batch limit, test-set epoch selection and arithmetic
other than the default (bf16, TF32 switched on or off: `numerics`), which a table must never
average with the default's runs nor a grid take for done by their rows. Logging,
progress bars and output folders do not, nor does how batches are delivered: where the files are,
the input path and its workers (the same batches either way) and the scoring batch size (every
method scores in eval mode, one image independently of the others in its batch).

A run's *configuration* is the same minus its class (the normal class, or under leave_one_out
the anomalous one) and the seed: rows that share it are one experiment repeated over classes and
seeds, the only rows a table may average.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from anomaly_bench.settings.protocols import class_tag

DIGEST_CHARS = 10
# Data settings that change how batches arrive, never what is trained or a score: not identity.
DELIVERY_KEYS = ("data_dir", "input_path", "num_workers", "eval_batch_size")
# The data settings that name a run's class; the one its protocol leaves unset (null) is not
# identity, so keys written before leave_one_out existed stay as they were.
CLASS_KEYS = ("normal_class", "anomalous_class")
# Data settings not part of the identity when null (unset), so keys written before they existed
# stay as they were: the class its protocol leaves unset, and the training files of a dataset
# that comes in one.
UNSET_DATA_KEYS = (*CLASS_KEYS, "train_batches")
# Trainer settings that cut a run short (a smoke test): part of the identity only when set, so a
# smoke run never shares a full run's key (and rows written before keep theirs).
SMOKE_KEYS = ("fast_dev_run", "limit_val_batches", "limit_test_batches")
# Lightning's spellings of plain float32 training, the default (and every row written before
# the precision was identity).
FLOAT32_PRECISIONS = ("32-true", "32", "None")
# The identity's keys for the arithmetic (`numerics`): a configuration without them is the same
# experiment in another arithmetic.
NUMERICS_KEYS = ("precision", "tf32")
# Model settings added after rows were written, with the value every earlier run had: not
# identity at that value, so those rows keep their keys and configurations, and a grid skips them.
ADDED_MODEL_DEFAULTS = {"architecture": "dcgan"}  # MemAE's networks


def _cut_short(key: str, value: Any) -> bool:
    """Lightning's meanings: fast_dev_run true or N > 0 runs N batches; a limit as a float is a
    share (1.0 = all), as an int a number of batches."""
    if value is None or value is False:
        return False
    if key == "fast_dev_run":
        return value is True or value > 0
    return not isinstance(value, float) or value != 1.0


def smoke_settings(trainer: Mapping[str, Any]) -> dict[str, Any]:
    """The trainer's settings that make a run a smoke test (fast_dev_run, batch limits)."""
    limits = {key: trainer.get(key) for key in (*SMOKE_KEYS, "limit_train_batches")}
    return {key: value for key, value in limits.items() if _cut_short(key, value)}


def numerics(config: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """The arithmetic a run trains with where it is not the default (float32, torch's TF32
    defaults): `trainer.precision` (bf16-mixed, ...) and `callbacks.speedups.tf32` when set.
    Empty by default, so the keys of rows written before stay as they were."""
    precision = str(config["trainer"].get("precision"))
    tf32 = ((config.get("callbacks") or {}).get("speedups") or {}).get("tf32")
    values = {"precision": None if precision in FLOAT32_PRECISIONS else precision, "tf32": tf32}
    return {key: value for key, value in values.items() if value is not None}


def method_id(cfg: DictConfig) -> str:
    """The configured model's snake_case id: its module's name (`...models.ganomaly.Ganomaly`)."""
    target = str(cfg.model._target_)
    parts = target.rsplit(".", 2)
    if len(parts) < 3:
        raise ValueError(
            f"model._target_={target!r} is not allowed; allowed: a model class in a package's "
            "module, <package>.<id>.<Class>, whose module names the method (anomaly_bench.models"
            ".ganomaly.Ganomaly; a detector of your own: mydetectors.template.Template)"
        )
    return parts[-2]


def _plain(node: Any) -> Any:
    """A resolved, independent copy: a run's config node or a row's saved config alike."""
    if isinstance(node, DictConfig):
        return OmegaConf.to_container(node, resolve=True)
    return copy.deepcopy(node)


def _model_identity(model: dict[str, Any]) -> dict[str, Any]:
    """The model config as keys hash it: the latent-search node as the three keys it replaced
    (`search: {steps, lr, weight}` -> `search_steps`, ...), and without a setting added later
    where it has the value earlier runs had (`ADDED_MODEL_DEFAULTS`), so runs configured either
    way, and rows written before, keep one key and one configuration."""
    search = model.pop("search", None)
    if isinstance(search, Mapping):
        model.update({f"search_{name}": value for name, value in search.items()})
    for key, earlier in ADDED_MODEL_DEFAULTS.items():
        if key in model and model[key] == earlier:
            model.pop(key)
    return model


def run_identity(config: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """What the key hashes, from a run's config or from the `config` a row saved of it."""
    data = _plain(config["data"])
    for delivery in DELIVERY_KEYS:
        data.pop(delivery, None)
    for unset in [key for key in UNSET_DATA_KEYS if key in data and data[key] is None]:
        data.pop(unset)
    trainer = config["trainer"]
    smoke = smoke_settings(trainer)
    return {
        "model": _model_identity(_plain(config["model"])),
        "data": data,
        "seed": config["seed"],
        "max_epochs": trainer.get("max_epochs"),
        "limit_train_batches": trainer.get("limit_train_batches"),
        "select_epoch_on_test": config.get("select_epoch_on_test", False),
        **{key: smoke[key] for key in SMOKE_KEYS if key in smoke},
        **numerics(config),
    }


def digest(identity: dict[str, Any]) -> str:
    """A short, stable hash of a run identity or a configuration."""
    text = json.dumps(identity, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]


def run_key(cfg: DictConfig) -> str:
    """`<method>_<dataset>_class<k>_<protocol>_seed<s>_<digest of run_identity>`, with
    `anomalous<k>` for `class<k>` under leave_one_out."""
    data = cfg.data
    tag = class_tag(data.protocol, data.get("normal_class"), data.get("anomalous_class"))
    return f"{method_id(cfg)}_{data.dataset}_{tag}_{data.protocol}_seed{cfg.seed}_" + digest(
        run_identity(cfg)
    )


def configuration(config: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """The run identity without what a table averages over: the run's class and the seed.

    A model seed that follows the run's seed (iForest's `seed: ${seed}`) is the seed too; one set
    apart from it is part of the configuration.
    """
    identity = run_identity(config)
    seed = identity.pop("seed")
    for key in CLASS_KEYS:
        identity["data"].pop(key, None)
    if identity["data"].get("seed") == seed:
        identity["data"].pop("seed")
    if identity["model"].get("seed") == seed:
        identity["model"].pop("seed")
    return identity
