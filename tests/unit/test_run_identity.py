from anomaly_bench.store.run_identity import run_key


def test_the_key_names_the_run_and_changes_with_what_is_trained(make_config):
    base = run_key(make_config("data=synthetic"))
    assert base.startswith("ganomaly_synthetic_class0_paper_seed0_")
    assert run_key(make_config("data=synthetic")) == base
    for override in ("seed=1", "model.w_con=10", "trainer.max_epochs=2", "data.batch_size=8"):
        assert run_key(make_config("data=synthetic", override)) != base, override
    for override in (
        "trainer.enable_progress_bar=false",
        "logger=wandb",
        "paths.data_dir=/x",
        "data.eval_batch_size=8",
        "data.input_path=dataloader",
    ):
        assert run_key(make_config("data=synthetic", override)) == base, override


def test_a_smoke_run_never_shares_a_full_runs_key(make_config):
    base = run_key(make_config("data=synthetic"))
    for override in (
        "trainer.fast_dev_run=true",
        "trainer.fast_dev_run=2",
        "trainer.limit_test_batches=1",
        "trainer.limit_test_batches=0.5",
        "trainer.limit_val_batches=2",
    ):
        assert run_key(make_config("data=synthetic", override)) != base, override
    # Lightning's "everything" spellings keep the full run's key.
    for override in ("trainer.fast_dev_run=false", "trainer.limit_test_batches=1.0"):
        assert run_key(make_config("data=synthetic", override)) == base, override
