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


def test_leave_one_out_names_the_anomalous_class_and_keeps_other_keys(make_config):
    paper = run_key(make_config("data=synthetic", "data.normal_class=3"))
    loo = run_key(
        make_config("data=synthetic", "data.protocol=leave_one_out", "data.anomalous_class=3")
    )
    assert paper.startswith("ganomaly_synthetic_class3_paper_seed0_")
    assert loo.startswith("ganomaly_synthetic_anomalous3_leave_one_out_seed0_")
    other = make_config("data=synthetic", "data.protocol=leave_one_out", "data.anomalous_class=4")
    assert run_key(other) != loo
    # The unused class key (null) is not identity: a paper run's key is the one it had before
    # anomalous_class existed.
    config = make_config("data=synthetic", "data.normal_class=3")
    del config.data.anomalous_class
    assert run_key(config) == paper


def test_cifar10_runs_name_how_many_training_batches_they_read(make_config):
    """Rows written before `data.train_batches` keep their keys; a run that reads all five
    batches never shares a key with the one-fifth rows of the first Table 3 grid."""
    full = make_config("data=cifar10")
    assert full.data.train_batches == 5
    earlier = make_config("data=cifar10")
    del earlier.data.train_batches  # as a row saved before the key existed
    assert run_key(earlier) != run_key(full)
    assert run_key(make_config("data=cifar10", "data.train_batches=1")) not in {
        run_key(earlier),
        run_key(full),
    }
    # A dataset of one training file leaves the key null, and its keys as they were.
    mnist = make_config("data=mnist")
    before = make_config("data=mnist")
    del before.data.train_batches
    assert run_key(mnist) == run_key(before)


def test_a_row_stores_the_digest_the_tables_group_it_by(make_config):
    from anomaly_bench.engine.run import identity, resolved_config
    from anomaly_bench.reporting.configurations import column_of

    cfg = make_config("data=synthetic", "model=fanogan", "model.encoder=ziz", "seed=3")
    row = {"method": "fanogan", "dataset": "synthetic", "config": resolved_config(cfg)}
    assert identity(cfg)["configuration_digest"] == column_of(row).digest
    other_seed = make_config("data=synthetic", "model=fanogan", "model.encoder=ziz", "seed=4")
    assert identity(other_seed)["configuration_digest"] == identity(cfg)["configuration_digest"]


def test_a_run_in_other_arithmetic_never_shares_a_default_runs_key(make_config):
    """A bf16 run, or one with TF32 switched on or off, is another experiment: `skip_done` must
    not take a default row for it, nor a table average the two (the fp32-vs-default check runs
    both). Plain float32 in any spelling keeps the keys rows have."""
    base = run_key(make_config("data=synthetic"))
    other = {
        run_key(make_config("data=synthetic", override))
        for override in (
            "trainer.precision=bf16-mixed",
            "trainer.precision=16-mixed",
            "callbacks.speedups.tf32=true",
            "callbacks.speedups.tf32=false",
        )
    }
    assert len(other) == 4 and base not in other
    for override in ("trainer.precision=32", "trainer.precision=32-true"):
        assert run_key(make_config("data=synthetic", override)) == base, override
    # Speedups that lay the same arithmetic out differently keep the key.
    for override in ("callbacks.speedups.channels_last=true", "callbacks.speedups.compile=true"):
        assert run_key(make_config("data=synthetic", override)) == base, override
    earlier = make_config("data=synthetic")
    del earlier.callbacks.speedups.tf32  # as a row saved before the switch existed
    assert run_key(earlier) == base


def test_a_bf16_run_is_a_column_of_its_own_that_says_so(make_config):
    from anomaly_bench.engine.run import resolved_config
    from anomaly_bench.reporting.configurations import column_of

    def column(*overrides: str) -> str:
        cfg = make_config("data=synthetic", *overrides)
        return column_of(
            {"method": "ganomaly", "dataset": "synthetic", "config": resolved_config(cfg)}
        )

    assert column().label == "ganomaly"
    assert column("trainer.precision=bf16-mixed").label == "ganomaly (precision bf16-mixed)"
    assert column("callbacks.speedups.tf32=false").label == "ganomaly (tf32 False)"


def test_memaes_architecture_at_its_default_keeps_the_keys_rows_had_before_it(make_config):
    """`model.architecture` came after MemAE's reference rows: at `dcgan` (what they ran) a run
    keeps their key, so a grid skips them; the paper's own MNIST net is another run."""
    today = make_config("data=synthetic", "model=memae")
    before = make_config("data=synthetic", "model=memae")
    del before.model.architecture  # as a row saved before the key existed
    assert run_key(today) == run_key(before)
    paper_net = make_config("data=synthetic", "model=memae", "model.architecture=memae_mnist")
    assert run_key(paper_net) != run_key(today)
