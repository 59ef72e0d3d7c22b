"""Hostile settings, one case each: every bad value is refused before anything is built,
with an error that names it, and costs nothing but a `failed` row (no checkpoint, no scores).

The cases are those an adversarial user tried (issue: hostile input) and more, on the synthetic
data; each fails in well under a second. `NAMED` errors are the project's own, in one shape
(`key=value is not allowed; allowed: ...`); `BY_LIBRARY` are refused by the library the value
is for, with that library's words (a precision, an accelerator, a forest's sample count).
"""

from pathlib import Path

import pytest

from anomaly_bench.engine.run import train
from anomaly_bench.store.results import ResultsStore

NAMED = [
    ("seed=-1", "seed=-1 is not allowed"),
    ("seed=a", "seed='a' is not allowed"),
    ("seed=1.5", "seed=1.5 is not allowed"),
    ("seed=true", "seed=True is not allowed"),
    ("resume=no", "resume='no' is not allowed"),
    ("resume=1", "resume=1 is not allowed"),
    ("skip_done=yes", "skip_done='yes' is not allowed"),
    ("skip_done=0", "skip_done=0 is not allowed"),
    ("select_epoch_on_test=maybe", "select_epoch_on_test='maybe' is not allowed"),
    ("cpu_threads=0", "cpu_threads=0 is not allowed"),
    ("cpu_threads=-2", "cpu_threads=-2 is not allowed"),
    ("cpu_threads=1.5", "cpu_threads=1.5 is not allowed"),
    ("cpu_threads=abc", "cpu_threads='abc' is not allowed"),
    ("+no_such_top=1", "no_such_top is not a setting of a run; allowed top-level key"),
    ("data.normal_class=10", "normal_class=10 is not allowed"),
    ("data.normal_class=-1", "normal_class=-1 is not allowed"),
    ("data.normal_class=true", "normal_class=True is not allowed"),
    ("data.normal_class=1.0", "normal_class=1.0 is not allowed"),
    ("data.normal_class=a", "normal_class='a' is not allowed"),
    ("data.protocol=oneclass", "protocol='oneclass' is not allowed"),
    ("data.protocol=PAPER", "protocol='PAPER' is not allowed"),
    ("data.image_size=0", "image_size=0 is not allowed"),
    ("data.image_size=-32", "image_size=-32 is not allowed"),
    ("data.image_size=31", "image_size=31 is not allowed"),
    ("data.image_size=2.5", "image_size=2.5 is not allowed"),
    ("data.batch_size=0", "batch_size=0 is not allowed"),
    ("data.batch_size=-1", "batch_size=-1 is not allowed"),
    ("data.batch_size=1.5", "batch_size=1.5 is not allowed"),
    ("data.eval_batch_size=0", "eval_batch_size=0 is not allowed"),
    ("data.val_fraction=1.0", "val_fraction=1.0 is not allowed"),
    ("data.val_fraction=-0.1", "val_fraction=-0.1 is not allowed"),
    ("data.val_fraction=1.5", "val_fraction=1.5 is not allowed"),
    ("data.val_fraction=a", "val_fraction='a' is not allowed"),
    ("data.val_fraction=nan", "val_fraction=nan is not allowed"),
    ("data.input_path=gpu", "input_path='gpu' is not allowed"),
    ("data.num_workers=-1", "num_workers=-1 is not allowed"),
    ("data.num_workers=1.5", "num_workers=1.5 is not allowed"),
    ("data.dataset=svhn", "unknown dataset 'svhn'; allowed: mnist, fmnist, cifar10, dig"),
    ("data.anomalous_class=3", "anomalous_class=3 is not allowed with protocol=paper"),
    ("data.protocol=leave_one_out", "anomalous_class=None is not allowed"),
    ("data.protocol=leave_one_out data.anomalous_class=12", "anomalous_class=12 is not allowed"),
    (
        "data.protocol=leave_one_out data.anomalous_class=2 data.normal_class=1",
        "normal_class=1 is not allowed with protocol=leave_one_out",
    ),
    ("data.seed=a", "seed='a' is not allowed"),
    ("trainer.max_epochs=0", "trainer.max_epochs=0 is not allowed"),
    ("trainer.max_epochs=-1", "trainer.max_epochs=-1 is not allowed"),
    ("trainer.max_epochs=2.5", "trainer.max_epochs=2.5 is not allowed"),
    ("trainer.max_epochs=a", "trainer.max_epochs='a' is not allowed"),
    ("trainer.limit_train_batches=0", "trainer.limit_train_batches=0 is not allowed"),
    ("trainer.limit_test_batches=0", "trainer.limit_test_batches=0 is not allowed"),
    ("trainer.limit_test_batches=abc", "trainer.limit_test_batches='abc' is not allowed"),
    ("model.latent_dim=0", "model.latent_dim=0 is not allowed"),
    ("model.latent_dim=-3", "model.latent_dim=-3 is not allowed"),
    ("model.latent_dim=2.5", "model.latent_dim=2.5 is not allowed"),
    ("model.latent_dim=a", "model.latent_dim='a' is not allowed"),
    ("model.width=0", "model.width=0 is not allowed"),
    ("model.width=2.5", "model.width=2.5 is not allowed"),
    ("model.w_con=-1", "model.w_con=-1 is not allowed"),
    ("model.w_con=a", "model.w_con='a' is not allowed"),
    ("model.w_adv=nan", "model.w_adv=nan is not allowed"),
    ("model.score_norm=l3", "score_norm='l3' is not allowed"),
    ("model.d_reinit_threshold=-1", "model.d_reinit_threshold=-1 is not allowed"),
    ("model.optimizer.lr=0", "model.optimizer.lr=0 is not allowed"),
    ("model.optimizer.lr=-1", "model.optimizer.lr=-1 is not allowed"),
    ("model.optimizer.lr=a", "model.optimizer.lr='a' is not allowed"),
    ("model.optimizer.lr=nan", "model.optimizer.lr=nan is not allowed"),
    ("model.optimizer.betas=[2,3]", "model.optimizer.betas[0]=2 is not allowed"),
    ("model._target_=foo", "model._target_='foo' is not allowed"),
    ("model._target_=os.system", "model._target_='os.system' is not allowed"),
    ("model=memae model.memory_size=0", "model.memory_size=0 is not allowed"),
    ("model=memae model.memory_size=2.5", "model.memory_size=2.5 is not allowed"),
    ("model=memae model.shrink_threshold=nan", "model.shrink_threshold=nan is not allowed"),
    ("model=memae model.shrink_threshold=-1", "model.shrink_threshold=-1 is not allowed"),
    ("model=memae model.w_entropy=-1", "model.w_entropy=-1 is not allowed"),
    ("model=mem_ganomaly model.addressing=foo", "addressing='foo' is not allowed"),
    ("model=mem_ganomaly model.update_rule=foo", "update_rule='foo' is not allowed"),
    ("model=mem_ganomaly model.memory_lr=-1", "model.memory_lr=-1 is not allowed"),
    ("model=mem_ganomaly model.memory_size=0", "model.memory_size=0 is not allowed"),
    ("model=fanogan model.encoder=abc", "encoder='abc' is not allowed"),
    ("model=fanogan model.score=abc", "score='abc' is not allowed"),
    ("model=fanogan model.gan_epochs=0", "model.gan_epochs=0 is not allowed"),
    (
        "model=fanogan model.gan_epochs=100",
        "trainer.max_epochs=1 leaves no epoch for the encoder: FAnoga",
    ),
    ("model=fanogan model.kappa=-1", "model.kappa=-1 is not allowed"),
    ("model=fanogan model.n_critic=0", "model.n_critic=0 is not allowed"),
    (
        "model=fanogan model.critic_reference_images=0",
        "model.critic_reference_images=0 is not allowed",
    ),
    ("model=fanogan model.encoder_output=relu", "encoder_output='relu' is not allowed"),
    ("model=anogan model.search.steps=0", "model.search.steps=0 is not allowed"),
    ("model=anogan model.search.steps=2.5", "model.search.steps=2.5 is not allowed"),
    ("model=anogan model.search.lr=0", "model.search.lr=0 is not allowed"),
    ("model=anogan model.score=xyz", "score='xyz' is not allowed"),
    ("model=deep_svdd model.objective=two-class", "objective='two-class' is not allowed"),
    ("model=deep_svdd model.nu=0", "nu=0 is not allowed"),
    ("model=deep_svdd model.nu=1.5", "nu=1.5 is not allowed"),
    ("model=deep_svdd model.pretrain_epochs=0", "model.pretrain_epochs=0 is not allowed"),
    (
        "model=deep_svdd model.pretrain_epochs=400",
        "trainer.max_epochs=1 leaves no epoch for Deep SVDD: DeepSvdd",
    ),
    ("model=deep_svdd model.lr_milestone=-1", "model.lr_milestone=-1 is not allowed"),
    ("model=dagmm model.n_components=0", "model.n_components=0 is not allowed"),
    ("model=dagmm model.latent_dim=0", "model.latent_dim=0 is not allowed"),
    ("model=dagmm model.dropout=1.5", "model.dropout=1.5 is not allowed"),
    ("model=iforest model.n_estimators=0", "model.n_estimators=0 is not allowed"),
    ("model=wgan model.clip_value=-1", "model.clip_value=-1 is not allowed"),
    ("model=wgan model.n_critic=0", "model.n_critic=0 is not allowed"),
    ("model=wgan_gp model.gp_weight=-1", "model.gp_weight=-1 is not allowed"),
    (
        "callbacks.learning_curve.every_n_epochs=-1",
        "callbacks.learning_curve.every_n_epochs=-1 is not allowed",
    ),
    ("callbacks.learning_curve.subsample=0", "callbacks.learning_curve.subsample=0 is not allowed"),
    (
        "callbacks.learning_curve.subsample=-5",
        "callbacks.learning_curve.subsample=-5 is not allowed",
    ),
    (
        "callbacks.anomaly_metrics.val_false_alarm_target=2",
        "val_false_alarm_target=2 is not allowed",
    ),
    (
        "callbacks.anomaly_metrics.val_false_alarm_target=0",
        "val_false_alarm_target=0 is not allowed",
    ),
    ("data.seed=-1", "seed=-1 is not allowed"),
    ("trainer.limit_val_batches=0", "trainer.limit_val_batches=0 is not allowed"),
    ("trainer.limit_train_batches=1.5", "trainer.limit_train_batches=1.5 is not allowed"),
    ("model=mem_ganomaly model.shrink_threshold=1.5", "model.shrink_threshold=1.5 is not allowed"),
    ("model=dagmm model.w_energy=-1", "model.w_energy=-1 is not allowed"),
]

BY_LIBRARY = [
    ("trainer.precision=fp8", ValueError, "Precision 'fp8' is invalid"),
    ("trainer.accelerator=tpu", ModuleNotFoundError, "torch_xla"),
    (
        "model._target_=anomaly_bench.models.nope.Nope",
        ImportError,
        "Error loading 'anomaly_bench.models.nope.Nope':",
    ),
    ("+model.foo=1", TypeError, "Ganomaly.__init__() got an unexpected keyword argument 'foo'"),
    (
        "model=iforest model.max_samples=-1",
        ValueError,
        "The 'max_samples' parameter of IsolationForest must be a str",
    ),
    (
        "model=iforest model.max_samples=abc",
        ValueError,
        "The 'max_samples' parameter of IsolationForest must be a str",
    ),
]


def refused(make_config, tmp_path: Path, case: str, error: type, fragment: str) -> None:
    cfg = make_config("data=synthetic", "trainer.max_epochs=1", *case.split())
    with pytest.raises(error) as raised:
        train(cfg)
    assert fragment in str(raised.value)
    [row] = ResultsStore(tmp_path / "results").read()
    assert row["status"] == "failed" and fragment in row["error"]
    written = [p for p in (tmp_path / "logs").rglob("*") if p.is_file()]
    assert written == [] and not (tmp_path / "run" / "scores.npz").exists()


@pytest.mark.parametrize(("case", "fragment"), NAMED)
def test_a_bad_setting_is_named_before_anything_is_built(make_config, tmp_path, case, fragment):
    refused(make_config, tmp_path, case, ValueError, fragment)


@pytest.mark.parametrize(("case", "error", "fragment"), BY_LIBRARY)
def test_a_setting_its_library_refuses_costs_only_a_failed_row(
    make_config, tmp_path, case, error, fragment
):
    refused(make_config, tmp_path, case, error, fragment)
