"""A table cell is one configuration: columns per configuration, labels, --where."""

import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from anomaly_bench.reporting import configurations
from anomaly_bench.reporting.comparison import per_class_comparison, rates_comparison, to_markdown
from anomaly_bench.reporting.configurations import (
    column_of,
    default_configuration,
    parse_where,
    where,
)
from anomaly_bench.reporting.paper_tables import load_paper_table
from anomaly_bench.reporting.run_list import run_list
from anomaly_bench.reporting.tables import report
from anomaly_bench.store.results import ResultsStore
from anomaly_bench.store.run_identity import digest, run_identity, run_key
from tests.conftest import CONF_DIR


def saved_config(*overrides: str, data: str = "mnist") -> dict:
    """The parts of a run's resolved config that a row saves and the identity reads."""
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose("train", overrides=[f"data={data}", *overrides])
    return {
        "model": OmegaConf.to_container(cfg.model, resolve=True),
        "data": OmegaConf.to_container(cfg.data, resolve=True),
        "trainer": {key: cfg.trainer[key] for key in ("max_epochs", "limit_train_batches")},
        "seed": cfg.seed,
        "select_epoch_on_test": cfg.select_epoch_on_test,
    }


def run_row(model: str, normal_class: int, seed: int, auroc: float, *overrides: str) -> dict:
    config = saved_config(
        f"model={model}", f"data.normal_class={normal_class}", f"seed={seed}", *overrides
    )
    return {
        "method": model, "dataset": "mnist", "protocol": "paper", "normal_class": normal_class,
        "seed": seed, "auroc": auroc, "status": "ok", "max_epochs": config["trainer"]["max_epochs"],
        "timestamp": "2026-11-26T04:41:10+00:00",
        "select_epoch_on_test": config["select_epoch_on_test"], "config": config,
    }  # fmt: skip


def crafted_store() -> list[dict]:
    """The issue's store: two GANomaly and two f-AnoGAN experiments on class 0, seed 0."""
    return [
        run_row("ganomaly", 0, 0, 0.60, "trainer.max_epochs=2"),
        run_row("ganomaly", 0, 0, 0.99, "select_epoch_on_test=true"),
        run_row("fanogan", 0, 0, 0.50, "model.encoder=ziz"),
        run_row("fanogan", 0, 0, 0.90),
    ]


def test_a_saved_config_gives_back_the_run_key_it_was_run_under():
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose("train", overrides=["data=mnist", "model=deep_svdd", "seed=3"])
    saved = saved_config("model=deep_svdd", "seed=3")
    assert run_identity(saved) == run_identity(cfg)
    assert run_key(cfg).endswith("_" + digest(run_identity(saved)))


def test_each_configuration_is_its_own_column_with_its_own_value_beside_the_paper():
    comparison = per_class_comparison(crafted_store(), load_paper_table(1), "auroc")
    cells = comparison.cells
    assert cells[("0", "ganomaly (epochs 2)")].ours == 0.60
    assert cells[("0", "ganomaly (epoch chosen on test)")].ours == 0.99
    assert cells[("0", "fanogan (encoder ziz)")].ours == 0.50
    assert cells[("0", "fanogan")].ours == 0.90
    for label in comparison.columns:  # never a mean of two experiments, never a spread
        cell = cells[("0", label)]
        assert cell.std is None and cell.seeds in (0, 1)
    assert cells[("0", "ganomaly (epochs 2)")].paper == 0.9890
    assert cells[("0", "fanogan (encoder ziz)")].paper == 0.9763
    assert comparison.method_of["fanogan (encoder ziz)"] == "fanogan"
    header = to_markdown(comparison).splitlines()[4]
    assert "| fanogan | fanogan (encoder ziz) |" in header
    assert "| ganomaly (epoch chosen on test) | ganomaly (epochs 2) |" in header


def test_seeds_and_classes_share_a_column_and_only_seeds_are_averaged():
    rows = [run_row("iforest", c, s, 0.8 + 0.01 * c + 0.001 * s) for c in (0, 1) for s in (0, 1)]
    assert len({column_of(r) for r in rows}) == 1  # model.seed and data.seed follow the seed
    comparison = per_class_comparison(rows, load_paper_table(1), "auroc")
    assert comparison.cells[("1", "iforest")].ours == pytest.approx(0.8105)
    assert comparison.cells[("1", "iforest")].seeds == 2


def test_where_narrows_by_row_fields_and_dotted_config_keys():
    rows = crafted_store()
    assert [r["auroc"] for r in where(rows, [("max_epochs", "2")])] == [0.60]
    assert [r["auroc"] for r in where(rows, [("model.encoder", "izi_f")])] == [0.90]
    both = [("method", "ganomaly"), ("select_epoch_on_test", "true")]
    assert [r["auroc"] for r in where(rows, both)] == [0.99]
    with pytest.raises(ValueError, match="--where 'max_epochs' is not allowed; allowed: KEY=VAL"):
        parse_where(["max_epochs"])


def test_the_plain_report_and_table4_keep_configurations_apart(tmp_path):
    store = ResultsStore(tmp_path)
    for index, row in enumerate(crafted_store()):
        store.append(row | {"gmean": 0.5 + 0.1 * index, "false_alarm_rate": 0.1, "miss_rate": 0.1})
    lines = report(tmp_path).splitlines()
    assert "| 0 | 0.9000 | 0.5000 | 0.9900 | 0.6000 |" in lines
    rates = rates_comparison(ResultsStore(tmp_path).read(), load_paper_table(4))
    assert rates.cells[("gmean", "ganomaly (epochs 2)")].ours == pytest.approx(0.5)
    assert rates.cells[("gmean", "ganomaly (epoch chosen on test)")].ours == pytest.approx(0.6)


def test_each_folder_of_ones_own_images_is_a_table_named_by_its_folders(tmp_path):
    """Two folders are two datasets: a table each, its title naming the folders, and the columns
    labelled by what differs in the method's settings, not by where the images are."""
    store = ResultsStore(tmp_path)
    for root, model, auroc in (("shots", "memae", 0.7), ("shots", "iforest", 0.8),
                               ("scans", "memae", 0.6)):  # fmt: skip
        config = saved_config(f"model={model}", f"data.root={root}", "data.abnormal_dir=defect",
                              "data.val_fraction=0.2", data="folder")  # fmt: skip
        store.append({"run_key": f"{model}_{root}", "method": model, "dataset": "folder",
                      "protocol": "standard",
                      "normal_class": 0, "seed": 0, "auroc": auroc, "status": "ok",
                      "max_epochs": config["trainer"]["max_epochs"], "config": config})  # fmt: skip
    lines = report(tmp_path).splitlines()
    titles = [line for line in lines if line.startswith("### ")]
    assert titles == [
        "### auroc — folder scans (normal_dir normal, abnormal_dir defect), standard protocol",
        "### auroc — folder shots (normal_dir normal, abnormal_dir defect), standard protocol",
    ]
    assert "| class | iforest (val_fraction 0.2) | memae (val_fraction 0.2) |" in lines
    assert "| 0 | 0.8000 | 0.7000 |" in lines and "| 0 | 0.6000 |" in lines
    assert not any("root" in line for line in lines)
    # The run list (`report --runs`) names each run's folders too.
    listed = run_list(store.read()).splitlines()
    scans = "| memae_scans | memae | folder scans (normal_dir normal, abnormal_dir defect) |"
    assert any(line.startswith(scans) for line in listed)


def test_table4_shows_held_out_threshold_rates_beside_the_test_youden_ones():
    rows = [
        run_row("ganomaly", 0, 0, 0.9) | {"gmean": 0.8, "false_alarm_rate": 0.1, "miss_rate": 0.2,
        "val_gmean": 0.7, "val_false_alarm_rate": 0.05, "val_miss_rate": 0.4}
    ]  # fmt: skip
    rates = rates_comparison(rows, load_paper_table(4))
    assert rates.rows[-3:] == ["val_gmean", "val_false_alarm_rate", "val_miss_rate"]
    assert rates.cells[("val_gmean", "ganomaly")].ours == pytest.approx(0.7)
    assert rates.cells[("val_gmean", "ganomaly")].paper is None


@pytest.mark.slow
def test_the_cli_where_option_filters_and_refuses_a_malformed_condition(tmp_path):
    store = ResultsStore(tmp_path)
    for row in crafted_store():
        store.append(row)
    command = [sys.executable, "-m", "anomaly_bench.report", "--results-dir", str(tmp_path)]
    kept = subprocess.run(
        [*command, "--where", "model.encoder=ziz"], capture_output=True, text=True, check=True
    )
    assert "| class | fanogan (encoder ziz) |" in kept.stdout
    bad = subprocess.run([*command, "--where", "encoder"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--where 'encoder' is not allowed" in bad.stderr


def test_the_frame_has_a_line_per_run_the_tables_read_with_its_column_and_digest():
    """A row stores its configuration's digest when written; an older row without it gets the
    one the tables group it by, so both land in one configuration."""
    from anomaly_bench.reporting.frame import rows_frame

    rows = crafted_store()
    rows[1]["configuration_digest"] = column_of(rows[1]).digest  # as a run writes it
    rows.append({**rows[3], "auroc": 0.95})  # a rerun of the same run: its latest row only
    frame = rows_frame(rows)
    assert len(frame) == 4 and frame.auroc.tolist()[-1] == 0.95
    assert frame.column.tolist() == [column_of(r).label for r in rows[:3]] + ["fanogan"]
    assert frame.configuration_digest.tolist() == [column_of(r).digest for r in rows[:4]]
    assert frame["class"].tolist() == [0, 0, 0, 0]


def test_a_budget_is_one_difference_however_the_yaml_splits_it_into_stages():
    """Deep SVDD's and f-AnoGAN's stages are halves of the budget: a run at another budget reads
    as that budget alone, a stage set apart from the budget's half as its own difference, and a
    run at the yaml's budget, asked after them, as the method itself."""
    rows = [
        run_row("deep_svdd", 0, 0, 0.9, "trainer.max_epochs=12"),
        run_row("deep_svdd", 0, 0, 0.8, "trainer.max_epochs=12", "model.pretrain_epochs=2"),
        run_row("fanogan", 0, 0, 0.7, "trainer.max_epochs=8"),
        run_row("deep_svdd", 0, 0, 0.6),
        run_row("fanogan", 0, 0, 0.5),
    ]
    assert [column_of(row).label for row in rows] == [
        "deep_svdd (epochs 12)",
        "deep_svdd (epochs 12, pretrain_epochs 2)",
        "fanogan (epochs 8)",
        "deep_svdd",
        "fanogan",
    ]


def test_a_budget_asked_first_leaves_the_yaml_defaults_as_they_are():
    """The composed defaults are shared by every budget of a method: one budget's labels never
    move another's, whichever is asked first."""
    configurations._composed_defaults.cache_clear()
    configurations._default_configuration.cache_clear()
    assert default_configuration("deep_svdd", "fmnist", 12)["max_epochs"] == 12
    defaults = default_configuration("deep_svdd", "fmnist")
    assert defaults["max_epochs"] == 300
    assert defaults["model"]["pretrain_epochs"] == 150
