"""The benchmark's arithmetic and plumbing; its timings are never asserted (DESIGN: make bench)."""

import json
import multiprocessing

import pytest
import torch

from anomaly_bench.bench import main
from anomaly_bench.benchmarks.grid_estimate import (
    RunShape,
    estimate_table,
    run_seconds,
)
from anomaly_bench.benchmarks.method_speed import (
    BenchCase,
    method_cases,
)
from anomaly_bench.benchmarks.processes import in_fresh_processes
from anomaly_bench.benchmarks.speed_matrix import (
    Deadline,
    attempt,
    markdown,
    profile_markdown,
    with_ratios,
)
from anomaly_bench.benchmarks.speed_matrix import main as speed_matrix
from anomaly_bench.benchmarks.speed_matrix import parse_args as speed_matrix_args
from anomaly_bench.benchmarks.step_profile import profile_case
from anomaly_bench.benchmarks.suite import report, scoring_against_reference
from anomaly_bench.benchmarks.timing import PhaseClock
from anomaly_bench.engine.callbacks import Speedups
from anomaly_bench.settings.bench_settings import BenchSettings
from anomaly_bench.settings.experiments import (
    experiment_grid,
    paper_protocol_sizes,
    protocol_sizes,
)
from tests.conftest import CONF_DIR
from tests.processes import dies, may_have_children, never_ends


def test_a_run_costs_each_stage_at_its_rate_plus_one_scoring_pass():
    shape = RunShape(stage_epochs=(2, 3), n_train=100, n_test=1000)
    assert run_seconds(shape, (50.0, 100.0), 500.0) == pytest.approx(2 * 2 + 3 * 1 + 2)


def test_paper_protocol_sizes_add_the_other_training_classes_to_the_test_split():
    assert paper_protocol_sizes("mnist") == (6000, 64000)
    assert paper_protocol_sizes("cifar10") == (5000, 55000)
    # GANomaly's protocol: nine classes' training images; the test split and the tenth's.
    assert protocol_sizes("cifar10", "leave_one_out") == (45000, 15000)
    assert protocol_sizes("mnist", "standard") == (6000, 10000)


def test_experiment_grids_expand_as_hydra_expands_them():
    grid = experiment_grid(CONF_DIR, "table3_cifar10")
    assert grid["dataset"] == ["cifar10"] and grid["seed"] == ["0"]
    assert grid["data.normal_class"] == [str(c) for c in range(10)]
    assert "mem_ganomaly" in grid["model"] and "fanogan" in grid["model"]
    loo = experiment_grid(CONF_DIR, "leave_one_out_cifar10")
    assert loo["data.anomalous_class"] == [str(c) for c in range(10)]
    assert "data.normal_class" not in loo and loo["dataset"] == ["cifar10"]


def test_the_grid_estimate_sums_every_run_and_names_what_was_not_measured():
    rows = [
        {
            "label": label,
            "channels": 3,
            "train_images_per_second": 500.0,
            "score_images_per_second": 5000.0,
        }
        for label in ("ganomaly", "fanogan", "fanogan stage 2")
    ]
    estimate = estimate_table(3, rows, BenchSettings())
    hours = {m["method"]: m["run_hours"] for m in estimate["methods"]}
    # GANomaly: 15 epochs x 5,000 images at 500/s + 55,000 scored at 5,000/s = 161 s per run.
    assert hours["ganomaly"] == pytest.approx(161 / 3600, abs=1e-3)
    # f-AnoGAN: 50 epochs in two stages, both at 500/s here.
    assert hours["fanogan"] == pytest.approx((50 * 10 + 11) / 3600, abs=1e-3)
    assert estimate["runs"] == 20 and set(estimate["not_measured"]) >= {"iforest", "mem_ganomaly"}
    assert estimate["grid_hours"] == pytest.approx(10 * sum(hours.values()), abs=0.01)


def test_two_stage_methods_are_also_timed_in_their_second_stage():
    labels = {case.label: case for case in method_cases(["fanogan", "ganomaly"], [1])}
    assert labels["fanogan stage 2"].overrides == ("model.gan_epochs=0",)
    assert labels["ganomaly dataloader"].overrides == ("data.input_path=dataloader",)


def test_a_phase_with_no_timed_batch_is_refused():
    clock = PhaseClock(warmup=2)
    clock.batch_start(0, device=None)
    with pytest.raises(RuntimeError, match="more batches than warm-up"):
        clock.stop(device=None)


@pytest.mark.slow
def test_bench_writes_markdown_and_json_for_the_methods_asked(tmp_path, capsys):
    output = tmp_path / "bench.json"
    main(
        [
            "--methods",
            "memae",
            "--channels",
            "1",
            "--train-warmup",
            "1",
            "--train-steps",
            "1",
            "--score-warmup",
            "1",
            "--score-batches",
            "1",
            "--input-images",
            "64",
            "--search-images",
            "2",
            "--search-steps",
            "1",
            "--output",
            str(output),
            "data.batch_size=8",
            "data.eval_batch_size=8",
        ]
    )
    results = json.loads(output.read_text())
    [row] = results["methods"]
    assert row["label"] == "memae" and row["batch_size"] == 8
    assert row["train_images_per_second"] > 0 and row["score_images_per_second"] > 0
    assert row["peak_rss_mb"] > 0
    assert [e["table"] for e in results["grid_estimates"]] == [1, 2]
    assert "| memae | 1 | 8 |" in output.with_suffix(".md").read_text()
    assert "## Estimated grid time" in capsys.readouterr().out


def test_unknown_methods_are_refused_with_the_valid_ids(capsys):
    with pytest.raises(SystemExit):
        main(["--methods", "ganomaly,vae"])
    assert "vae not allowed; allowed: anogan" in capsys.readouterr().err


def test_an_output_that_cannot_be_written_is_refused_before_anything_is_timed(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--methods", "iforest", "--output", str(tmp_path)])
    assert "is a folder; allowed: a file's path in a writable folder" in capsys.readouterr().err


def test_ganomaly_scoring_is_set_over_the_reference_loop_per_channel_count():
    rows = [
        {
            "label": "ganomaly",
            "channels": 1,
            "score_images_per_second": 600.0,
            "eval_batch_size": 64,
        },
        {"label": "memae", "channels": 1, "score_images_per_second": 9.0, "eval_batch_size": 64},
    ]
    reference = [
        {"channels": 1, "batch_size": 64, "reference_loop_images_per_second": 480.0},
        {"channels": 3, "batch_size": 64, "reference_loop_images_per_second": 100.0},
    ]
    [row] = scoring_against_reference(rows, reference)
    assert row["channels"] == 1 and row["ratio"] == 1.25 and row["ours_batch_size"] == 64


def test_the_committed_gpu_bench_page_is_what_its_json_gives():
    page = CONF_DIR.parents[1] / "docs" / "results" / "bench_nvidia_h200"
    results = json.loads(page.with_suffix(".json").read_text())
    assert results["device"] == "NVIDIA H200"
    assert page.with_suffix(".md").read_text() == report(results)


def test_the_speed_matrix_sets_each_setting_against_float32_at_the_same_jobs():
    cells = [
        {"method": "m", "variant": "float32", "jobs": 1, "train_images_per_second_total": 100.0},
        {"method": "m", "variant": "bf16", "jobs": 1, "train_images_per_second_total": 250.0},
        {"method": "m", "variant": "float32", "jobs": 14, "train_images_per_second_total": 800.0},
        {"method": "m", "variant": "bf16", "jobs": 14, "train_images_per_second_total": 1000.0},
    ]
    assert [c["vs_float32"] for c in with_ratios(cells)] == [1.0, 2.5, 1.0, 1.25]
    with pytest.raises(SystemExit):
        speed_matrix_args(["--variants", "float32,fp8"])
    assert speed_matrix_args([]).jobs == [1, 14]


@pytest.mark.parametrize("jobs", ["1,0", "1,x", "14,"])
def test_a_job_count_of_nothing_is_refused_naming_it(jobs, capsys):
    with pytest.raises(SystemExit):
        speed_matrix_args(["--jobs", jobs])
    bad = jobs.split(",")[1]
    assert f"argument --jobs: {bad!r} is not allowed; allowed: a positive integer" in (
        capsys.readouterr().err
    )


def test_a_process_past_its_seconds_or_dead_is_killed_and_the_caller_told():
    # The measurements take no case (their processes need not import torch to get one).
    with pytest.raises(multiprocessing.TimeoutError):
        in_fresh_processes(never_ends, None, None, processes=2, timeout_s=1)
    assert multiprocessing.active_children() == []
    with pytest.raises(RuntimeError, match="ended with exit code 3 and no result"):
        in_fresh_processes(dies, None, None)
    assert in_fresh_processes(may_have_children, None, None, processes=2) == [
        {"daemon": False},
        {"daemon": False},
    ]


def test_a_cell_that_fails_or_finds_no_time_left_says_why_and_the_matrix_goes_on():
    def fails(timeout_s: float | None) -> dict:
        raise RuntimeError("CUDA graphs: captured tensor overwritten\nTraceback ...")

    def succeeds(timeout_s: float | None) -> dict:
        return {"train_images_per_second_total": 100.0, "timeout_s": timeout_s}

    assert attempt(fails, Deadline(None)) == {
        "error": "RuntimeError: CUDA graphs: captured tensor overwritten"
    }
    assert attempt(succeeds, Deadline(None))["timeout_s"] is None
    assert 0 < attempt(succeeds, Deadline(60))["timeout_s"] <= 60
    assert attempt(succeeds, Deadline(0)) == {"error": "not run: the matrix's --seconds were spent"}
    cells = [
        {"method": "m", "variant": "float32", "jobs": 1, "train_images_per_second_total": 100.0},
        {"method": "m", "variant": "cuda_graphs", "jobs": 1, "error": "RuntimeError: overwritten"},
        {"method": "m", "variant": "float32", "jobs": 14, "error": "not run: out of time"},
        {"method": "m", "variant": "bf16", "jobs": 14, "train_images_per_second_total": 900.0},
    ]
    ratios = [c.get("vs_float32") for c in with_ratios(cells)]
    assert ratios == [1.0, None, None, None]
    page = markdown({"cells": cells})
    assert "| m | cuda_graphs | 1 | - | - | - | - | RuntimeError: overwritten |" in page
    assert "| m | bf16 | 14 | - | 900.0 | - | - | - |" in page


@pytest.mark.slow
def test_a_matrix_whose_cells_fail_writes_them_and_exits_failed(tmp_path):
    output = tmp_path / "speed_matrix.json"
    args = ["--methods", "memae", "--variants", "float32", "--jobs", "1", "--channels", "1"]
    with pytest.raises(SystemExit, match="1 measurements failed"):
        speed_matrix([*args, "--output", str(output), "callbacks.speedups.compile_mode=fast"])
    [cell] = json.loads(output.read_text())["cells"]
    assert cell["variant"] == "float32" and "compile_mode" in cell["error"]
    assert "fast" in cell["error"] and "reduce-overhead" in cell["error"]
    assert cell["error"] in output.with_suffix(".md").read_text()


@pytest.mark.parametrize("tf32", [True, False])
def test_the_tf32_switch_sets_torchs_float32_products(tf32):
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        Speedups(tf32=tf32).setup(None, torch.nn.Linear(2, 2), "fit")
        assert torch.backends.cuda.matmul.allow_tf32 is tf32
        assert torch.backends.cudnn.allow_tf32 is tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn


@pytest.mark.slow
def test_a_step_profile_counts_what_mem_ganomalys_step_adds_to_ganomalys():
    """Mem_GANomaly's step adds E's update through G_D (Algorithm 1's third step) and the memory:
    more operators per step than GANomaly's, and the profile names them."""
    settings = BenchSettings(train_warmup=1, train_steps=2, score_warmup=0, score_batches=1)
    found = [profile_case(BenchCase(m, m, 1), settings) for m in ("ganomaly", "mem_ganomaly")]
    ganomaly, mem_ganomaly = found
    assert ganomaly["steps"] == mem_ganomaly["steps"] == 2
    assert mem_ganomaly["operators_per_step"] > 1.2 * ganomaly["operators_per_step"]
    # A CPU has no device kernels to count, and no device to wait for.
    assert ganomaly["kernels_per_step"] is None and ganomaly["syncs_per_step"] is None
    # Adam reads each parameter's step count (a host tensor) as a number: one per tensor.
    assert ganomaly["scalar_reads_per_step"] >= 10
    # Python between the operators is part of a step, and not all of it.
    assert 0 < ganomaly["host_ms_outside_operators_per_step"] < ganomaly["wall_ms_per_step"]
    top = [o["name"] for o in mem_ganomaly["top_operators"]]
    assert "aten::convolution_backward" in top
    text = profile_markdown(found)
    assert "| mem_ganomaly | " in text and "mem_ganomaly, self time on the cpu per step" in text
