"""The GPU queue on a CPU: its order, what counts as done, the deadline, the data check, the
carry plan and the rows brought back (the issue's "without a GPU" part)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from anomaly_bench import CONF_DIR
from anomaly_bench.data.checksums import check_files, complete_datasets, read_manifest
from anomaly_bench.engine.carry_plan import carry_plan
from anomaly_bench.engine.device_queue import (
    SAFETY,
    QueuedRun,
    QueueStep,
    compose_run,
    load_queue,
    longest_first,
    pending_runs,
    run_queue,
    step_overrides,
)
from anomaly_bench.engine.queue_simulation import (
    SimulatedClock,
    SimulatedRun,
    beyond_window,
    projected_seconds,
    simulate_queue,
)
from anomaly_bench.engine.run_estimates import (
    Rates,
    Sharing,
    SpeedSetting,
    bench_rates,
    curve_points,
    estimate_device,
    estimate_seconds,
    measured_rates,
    rates_for,
    speed_setting,
    training_rate,
)
from anomaly_bench.gpu_session import main
from anomaly_bench.store.results import PICTURES_DIR, ResultsStore
from anomaly_bench.store.run_identity import run_key

MiB = 2**20
# The default's speed setting: float32 at torch's TF32 defaults, eager, foreach Adam.
DEFAULT = SpeedSetting()
BF16 = SpeedSetting(numerics=(("precision", "bf16-mixed"),))


@pytest.mark.parametrize(
    "overrides",
    [
        ("experiment=table3_cifar10", "model=mem_ganomaly", "data.normal_class=7", "seed=2"),
        (
            "experiment=leave_one_out_cifar10",
            "model=ganomaly",
            "data.anomalous_class=3",
            "seed=0",
        ),
    ],
)
def test_a_queued_runs_key_is_the_key_its_own_run_gets(overrides):
    """The queue composes once per method and sets the class and seed: the same key a run
    composed from all its overrides (as `anomaly_bench.train` does) gets."""
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        whole = compose("train", overrides=list(overrides))
    assert run_key(compose_run(overrides, {})) == run_key(whole)


def test_pending_runs_keep_the_queue_order_skip_the_done_and_estimate_from_rates():
    steps = [QueueStep("t3", "table3_cifar10", (0,)), QueueStep("t3b", "table3_cifar10", (1,))]
    first = list(step_overrides(steps[0]))
    assert len(first) == 70 and first[0][1:] == ("model=iforest", "data.normal_class=0", "seed=0")
    done = {run_key(compose_run(first[0], {}))}
    rates = {("ganomaly", 3, DEFAULT, Sharing(14)): Rates(train=1000.0, score=5000.0)}
    runs = pending_runs(steps, done, rates, {}, Sharing(14))
    assert len(runs) == 139 and runs[0].key.startswith("iforest_cifar10_class1_paper_seed0_")
    assert runs[-1].key.startswith("mem_ganomaly_cifar10_class9_paper_seed1_")
    ganomaly = next(r for r in runs if r.method == "ganomaly")
    # 15 epochs of one class's 5,000 images; a curve point after each on the 4,000-image
    # subsample and the best epoch's 55,000 test images again; the final 55,000; the overhead.
    curve = (15 * 4000 + 55000) / 5000
    assert ganomaly.estimate_s == pytest.approx(15 * 5000 / 1000 + curve + 55000 / 5000 + 30)
    assert next(r for r in runs if r.method == "dagmm").estimate_s is None  # no rate: not guessed
    cfg = compose_run((*first[40], "data.train_batches=1"), {})
    assert estimate_seconds(cfg, Rates(1000.0, 5000.0)) == pytest.approx(15 + curve + 11 + 30)


@pytest.mark.parametrize(
    ("method", "points"),
    [("ganomaly", 15), ("fanogan", 25), ("deep_svdd", 150), ("dagmm", 50), ("iforest", 0)],
)
def test_a_runs_curve_points_are_counted_as_the_callback_reads_them(method, points):
    """A point an epoch past a two-stage method's first stage (f-AnoGAN's 25 GAN epochs, Deep
    SVDD's 150 of pretraining), every 4th for DAGMM, none for iForest's single fit."""
    cfg = compose_run(
        ("experiment=table3_cifar10", f"model={method}", "data.normal_class=0", "seed=0"), {}
    )
    assert curve_points(cfg) == points


def test_measured_rates_leave_the_curve_out_of_training_and_resumed_rows_out():
    """A row that trained 10,000 images in 100 s of fit, 20 of them scoring its curve, trained
    at 125 images a second; a resumed row's seconds are its last process's only."""
    row = {"status": "ok", "device": "gpu", "dataset": "cifar10", "method": "ganomaly",
           "train_seconds": 100.0, "train_images_per_second": 100.0,
           "test_images_per_second": 5000.0, "config": {"trainer": {"precision": "32-true"}},
           "learning_curve": [{"score_seconds": 6.0}, {"score_seconds": 6.0}],
           "epoch_choices": {"best_test_epoch": {"score_seconds": 8.0}}}  # fmt: skip
    assert training_rate(row) == pytest.approx(125.0)
    resumed = row | {"train_images_per_second": 1.0, "resumed_from": "last.ckpt"}
    measured = measured_rates([row, resumed], "gpu")
    assert measured == {("ganomaly", 3, DEFAULT, Sharing(14)): Rates(125.0, 5000.0)}


def test_a_narrowed_step_queues_only_its_runs_and_a_run_two_steps_share_once():
    """The fp32-vs-default check: GANomaly and Mem_GANomaly, classes 0 and 1, two seeds, in
    strict float32 (their own keys), and the default's seed 1 runs, which Table 3's seeds 1-2
    step also holds and must not start a second time."""
    steps = {step.name: step for step in load_queue()}
    check, seed1 = steps["float32_check"], steps["default_check_seed1"]
    assert [o[1:4] for o in step_overrides(check)][:3] == [
        ("model=ganomaly", "data.normal_class=0", "seed=0"),
        ("model=ganomaly", "data.normal_class=1", "seed=0"),
        ("model=mem_ganomaly", "data.normal_class=0", "seed=0"),
    ]
    runs = pending_runs([check, seed1, steps["table3_seeds12"]], set(), {}, {}, Sharing(14))
    by_step = {name: [r for r in runs if r.step == name] for name in steps}
    assert len(by_step["float32_check"]) == 8 and len(by_step["default_check_seed1"]) == 4
    assert len(by_step["table3_seeds12"]) == 140 - 4
    assert len({r.key for r in runs}) == len(runs)
    strict = {r.key for r in by_step["float32_check"]}
    assert not strict & {r.key for r in by_step["default_check_seed1"]}


@pytest.mark.parametrize(
    ("only", "refusal"),
    [
        ((("model", ("vae",)),), "only.model='vae' is not allowed; allowed: iforest, dagmm"),
        (
            (("data.anomalous_class", ("1",)),),
            "only='data.anomalous_class' is not allowed; allowed: model, data.normal_class",
        ),
    ],
)
def test_a_step_narrowed_to_what_its_grid_does_not_sweep_is_refused(only, refusal):
    step = QueueStep("x", "table3_cifar10", (0,), only=only)
    with pytest.raises(ValueError, match=refusal):
        list(step_overrides(step))


def test_a_device_without_rows_is_estimated_from_the_gpu_that_wrote_the_most():
    """An H100 lent where only an H200 has run: the H200's rows, not a benchmark divided by 14
    jobs (four times too slow), until the H100 writes rows of its own."""
    h100, h200 = "NVIDIA H100 80GB HBM3", "NVIDIA H200"
    rows = [
        *({"status": "ok", "device": h200} for _ in range(3)),
        *({"status": "ok", "device": "cpu"} for _ in range(9)),
        {"status": "ok", "device": "NVIDIA A100"},
        {"status": "failed", "device": h100},
    ]
    assert estimate_device(rows, h100) == h200
    assert estimate_device([*rows, {"status": "ok", "device": h100}], h100) == h100
    assert estimate_device(rows, "cpu") == "cpu"
    assert estimate_device(rows[3:12], h100) == h100  # no GPU's rows: its benchmark, or nothing
    bench = {"device": h200, "methods": [
        {"label": "ganomaly", "train_images_per_second": 1400.0, "score_images_per_second": 700.0}
    ]}  # fmt: skip
    assert bench_rates(bench, 14, h200) == {"ganomaly": Rates(100.0, 50.0)}
    assert bench_rates(bench, 2, "cpu") == {}  # another device's benchmark estimates nothing


def queue_of(*estimates: float | None) -> list[QueuedRun]:
    return [QueuedRun("s", (), f"run{i}", "m", "d", e) for i, e in enumerate(estimates)]


def fake_run(runs, took: dict[str, float], jobs: int, seconds: float):
    clock = SimulatedClock()
    processes = {}

    def launch(run):
        processes[run.key] = SimulatedRun(clock, took[run.key])
        return processes[run.key]

    report = run_queue(runs, launch, jobs, seconds, grace_s=10, clock=clock.now, sleep=clock.sleep)
    return report, processes


def test_a_run_that_cannot_finish_before_the_deadline_is_never_started():
    runs = queue_of(10, 100, 5, None)
    report, started = fake_run(runs, {"run0": 10, "run1": 100, "run2": 5}, jobs=1, seconds=50)
    assert sorted(started) == ["run0", "run2"]  # the shorter run behind the long one went
    assert [f["key"] for f in report.finished] == ["run0", "run2"]
    why = {n["key"]: n["why"] for n in report.not_started}
    assert why["run3"] == "no rate known"
    assert why["run1"] == f"needs ~{SAFETY * 100:.0f} s, more than the whole 50 s window"
    assert report.terminated == []
    # A run that fits an empty window but not what was left of this one waits for the next.
    runs = queue_of(30, 30)
    report, _ = fake_run(runs, {"run0": 30, "run1": 30}, jobs=1, seconds=50)
    assert [n["why"] for n in report.not_started] == [f"needs ~{SAFETY * 30:.0f} s, 19 s were left"]


def test_a_run_without_rows_at_its_channels_borrows_a_wider_images_never_a_narrower_one():
    """The GPU has written CIFAR-10 rows (3 channels) only: an MNIST run of the same method is
    estimated from them, not from the benchmark over 14 jobs; a CIFAR-10 run never takes an
    MNIST rate, which would be too fast."""
    shared = Sharing(14)
    measured = {
        ("ganomaly", 3, DEFAULT, shared): Rates(1600.0, 9000.0),
        ("memae", 1, DEFAULT, shared): Rates(5000.0, 9000.0),
    }
    assert rates_for(measured, "ganomaly", 1, DEFAULT, shared) == Rates(1600.0, 9000.0)
    assert rates_for(measured, "ganomaly", 3, DEFAULT, shared) == Rates(1600.0, 9000.0)
    assert rates_for(measured, "memae", 3, DEFAULT, shared) is None
    assert rates_for(measured, "dagmm", 1, DEFAULT, shared) is None
    only = (("model", ("ganomaly",)), ("data.normal_class", ("0",)))
    steps = [QueueStep("t1", "table1_mnist", (0,), only=only)]
    [run] = pending_runs(steps, set(), measured, {"ganomaly": Rates(1.0, 1.0)}, shared)
    assert run.estimate_s < 1000  # 15 epochs of about 6,000 images at 1,600/s, not at 1/s


def test_rates_follow_the_runs_setting_and_sharing_and_another_ones_never_run_faster():
    """Rows of one arithmetic and sharing estimate runs of the same: once bf16 runs have rows,
    the first grid's float32 rows do not outvote them. Without rows of their own, runs take
    the slowest others, no faster with fewer jobs, slower in proportion with more."""
    config = {"trainer": {"precision": "32-true"}, "callbacks": {"speedups": {"tf32": None}}}
    bf16 = {**config, "trainer": {"precision": "bf16-mixed"}}
    assert speed_setting(config) == DEFAULT and speed_setting(bf16) == BF16
    graphs = {"compile": True, "compile_mode": "reduce-overhead", "channels_last": True}
    fast = {**config, "callbacks": {"speedups": graphs}, "model": {"optimizer": {"fused": True}}}
    assert speed_setting(fast) == SpeedSetting((), True, "reduce-overhead", True)

    def row(rate: float, settings: dict, **sharing) -> dict:
        return {"status": "ok", "device": "NVIDIA H200", "dataset": "cifar10",
                "method": "ganomaly", "train_seconds": 10.0, "train_images_per_second": rate,
                "test_images_per_second": 9000.0, "config": settings, **sharing}  # fmt: skip

    earlier = [row(1600.0, config) for _ in range(5)]  # before rows recorded their sharing
    measured = measured_rates(
        [*earlier, row(3000.0, bf16, device_jobs=14, device_mps=False)], "NVIDIA H200"
    )
    assert measured == {
        ("ganomaly", 3, DEFAULT, Sharing(14)): Rates(1600.0, 9000.0),
        ("ganomaly", 3, BF16, Sharing(14)): Rates(3000.0, 9000.0),
    }
    assert rates_for(measured, "ganomaly", 3, BF16, Sharing(14)).train == 3000.0
    assert rates_for(measured, "ganomaly", 3, DEFAULT, Sharing(14)).train == 1600.0
    # Channels-last has no rows: the slowest setting's, shared as planned.
    channels_last = SpeedSetting(channels_last=True)
    assert rates_for(measured, "ganomaly", 3, channels_last, Sharing(14)).train == 1600.0
    assert rates_for(measured, "ganomaly", 3, channels_last, Sharing(28)).train == 800.0
    assert rates_for(measured, "ganomaly", 3, channels_last, Sharing(7)).train == 1600.0
    assert rates_for(measured, "ganomaly", 3, BF16, Sharing(14, mps=True)).train == 1600.0


def test_runs_no_window_can_start_are_named_by_step_and_method():
    """At today's rates a run whose estimate (with the margin) exceeds the whole window waits
    for faster settings or fewer jobs, not for a later session: the plan names them."""
    runs = [
        QueuedRun("table3_seed0", (), "m0", "mem_ganomaly", "cifar10", 654.0),
        QueuedRun("table3_seed0", (), "m1", "mem_ganomaly", "cifar10", 654.0),
        QueuedRun("table3_seed0", (), "g0", "ganomaly", "cifar10", 78.0),
        QueuedRun("table3_seed0", (), "d0", "dagmm", "cifar10", 336.0),  # 420 s: just fits
        QueuedRun("table3_seeds12", (), "m2", "mem_ganomaly", "cifar10", 700.0),
        QueuedRun("table3_seeds12", (), "x", "memae", "cifar10", None),
    ]
    assert beyond_window(runs, 420) == {
        ("table3_seed0", "mem_ganomaly"): [654.0, 654.0],
        ("table3_seeds12", "mem_ganomaly"): [700.0],
    }


def test_jobs_share_the_device_and_a_run_past_the_hard_stop_is_terminated():
    runs = queue_of(5, 5, 5)
    report, started = fake_run(runs, {"run0": 6, "run1": 6, "run2": 500}, jobs=3, seconds=40)
    assert len(started) == 3  # all at once
    assert report.terminated == ["run2"] and started["run2"].returncode == -15
    assert {f["key"] for f in report.finished} == {"run0", "run1"}


def test_a_projection_is_the_makespan_of_the_runs_at_their_estimates():
    """Two slots: two rounds of 10 s runs take about 20 s, and a 30 s run beside three 10 s ones
    about 30 s (a freed slot is refilled at the next one-second poll, as on the device)."""
    assert projected_seconds(queue_of(10, 10, 10, 10), jobs=2) == pytest.approx(20, abs=2)
    assert projected_seconds(queue_of(30, 10, 10, 10), jobs=2) == pytest.approx(30, abs=3)
    assert projected_seconds(queue_of(10, 10, 10, 10), jobs=4) == pytest.approx(10, abs=2)
    assert projected_seconds(queue_of(10, None), jobs=2) is None


def test_each_steps_runs_go_longest_first_and_the_steps_keep_their_order():
    runs = [
        QueuedRun("a", (), "a1", "m", "d", 10),
        QueuedRun("a", (), "a2", "m", "d", None),
        QueuedRun("a", (), "a3", "m", "d", 50),
        QueuedRun("b", (), "b1", "m", "d", 500),
        QueuedRun("a", (), "a4", "m", "d", 20),
    ]
    assert [r.key for r in longest_first(runs)] == ["a3", "a4", "a1", "a2", "b1"]
    # Three slots for 80 s: the sweep's order leaves the 60 s run no room, longest first fits all.
    sweep = queue_of(10, 10, 10, 60)
    assert len(simulate_queue(sweep, jobs=3, seconds=80).finished) == 3
    assert len(simulate_queue(longest_first(sweep), jobs=3, seconds=80).finished) == 4


def write_manifest(folder: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    lines = [f"{hashlib.sha256(c).hexdigest()}  {n}" for n, c in files.items()]
    manifest = folder / "SHA256SUMS"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def test_the_data_check_names_missing_and_damaged_files_and_holds_their_dataset(tmp_path):
    cifar = "cifar-10-batches-py/"
    manifest = write_manifest(
        tmp_path,
        {f"{cifar}a": b"a" * 10, f"{cifar}b": b"b" * 10, f"{cifar}c": b"c", "MNIST/x": b"x"},
    )
    (tmp_path / cifar / "b").write_bytes(b"B" * 10)  # cut or changed in transfer
    (tmp_path / cifar / "c").unlink()
    states = check_files(tmp_path, read_manifest(manifest, under=cifar))
    assert [(s.path, s.state) for s in states] == [
        (f"{cifar}a", "ok"),
        (f"{cifar}b", "damaged"),
        (f"{cifar}c", "missing"),
    ]
    assert complete_datasets(tmp_path, manifest) == {"mnist"}  # CIFAR-10's runs wait
    assert main(["check", "--data-dir", str(tmp_path), "--manifest", str(manifest)]) == 1


def test_the_carry_plan_fills_each_call_beside_the_tree_and_refuses_a_file_too_big():
    batches = [(f"data_batch_{i}", 30 * MiB) for i in range(1, 6)] + [("test_batch", 30 * MiB)]
    calls = carry_plan(batches, tree=2 * MiB)
    assert calls == [
        ["data_batch_1", "data_batch_2"],
        ["data_batch_3", "data_batch_4"],
        ["data_batch_5", "test_batch"],
    ]
    with pytest.raises(ValueError, match=r"huge \(70\.0 MiB\) does not fit a call: 60\.0 MiB"):
        carry_plan([("huge", 70 * MiB)], tree=2 * MiB)
    # A call names at most 8 paths, however small its files.
    small = [(f"file{i}", 1) for i in range(9)]
    assert [len(call) for call in carry_plan(small, tree=2 * MiB)] == [8, 1]


def test_rows_brought_back_are_added_once_with_only_their_own_pictures(tmp_path):
    rows = [{"run_id": f"id{i}", "run_key": f"key{i}", "status": "failed", "method": "m",
             "dataset": "d"} for i in range(2)]  # fmt: skip
    new_rows = tmp_path / "new_rows.jsonl"
    new_rows.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pictures = tmp_path / "pictures.tar"
    with tarfile.open(pictures, "w") as tar:
        for name in ("key0.png", "../escape.png", "other.png"):
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"png"))
    store = tmp_path / "committed"
    args = [
        "add",
        "--rows",
        str(new_rows),
        "--pictures",
        str(pictures),
        "--results-dir",
        str(store),
    ]
    main(args)
    main(args)  # again: nothing twice
    assert len((store / "results.jsonl").read_text().splitlines()) == 2
    assert sorted(p.name for p in (store / "example_pictures").iterdir()) == ["key0.png"]
    assert not (tmp_path / "escape.png").exists()


def test_an_interrupted_run_is_not_added_and_a_grids_picture_folder_is_read(tmp_path, capsys):
    """A run killed when a session ended resumes later: its row is no result. A CPU grid's
    pictures lie in its store's folder, not in a tar."""
    run = {"method": "m", "dataset": "d"}
    stopped = run | {
        "run_id": "a",
        "run_key": "k",
        "status": "failed",
        "error": "terminated by SIGTERM at epoch 3, step 90; checkpoint c; rerun",
    }
    diverged = run | {"run_id": "b", "run_key": "k2", "status": "failed", "error": "nan loss"}
    finished = run | {"run_id": "c", "run_key": "k", "status": "ok", "auroc": 0.9,
                      "protocol": "paper", "seed": 0, "normal_class": 1}  # fmt: skip
    grid = tmp_path / "grid" / "results.jsonl"
    grid.parent.mkdir()
    grid.write_text("".join(json.dumps(row) + "\n" for row in (stopped, diverged, finished)))
    pictures = tmp_path / "grid" / PICTURES_DIR
    pictures.mkdir()
    (pictures / "k.png").write_bytes(b"png")
    store = tmp_path / "committed"
    main(["add", "--rows", str(grid), "--pictures", str(pictures),
          "--results-dir", str(store)])  # fmt: skip
    added = (store / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["run_id"] for line in added] == ["b", "c"]
    assert (store / PICTURES_DIR / "k.png").read_bytes() == b"png"
    out = capsys.readouterr().out
    assert "2 rows added" in out and "left out 1 interrupted run (they resume)" in out


@pytest.mark.parametrize(
    ("bad_line", "problem"),
    [
        ('{"run_id": "b", "run_key": "kb", "status": "fai', "line 2: not JSON"),
        ('{"run_id": "b", "run_key": "kb", "status": "ok", "method": "m", "dataset": "d"}',
         "line 2: no 'protocol'"),
        ('{"run_key": "kb", "status": "failed", "method": "m", "dataset": "d"}',
         "line 2: no 'run_id'"),
    ],
)  # fmt: skip
def test_a_rows_file_with_a_bad_line_adds_nothing_and_says_which_line(
    tmp_path, capsys, bad_line, problem
):
    """A file cut short on the device, or edited by hand, must not leave the committed store
    with its first half: the store takes the whole file or none of it."""
    good = {"run_id": "a", "run_key": "ka", "status": "failed", "method": "m", "dataset": "d",
            "error": "diverged"}  # fmt: skip
    rows = tmp_path / "new_rows.jsonl"
    rows.write_text(json.dumps(good) + "\n" + bad_line + "\n")
    store = tmp_path / "committed"
    assert main(["add", "--rows", str(rows), "--results-dir", str(store)]) == 1
    assert not (store / "results.jsonl").exists()
    err = capsys.readouterr().err
    assert f"{rows} {problem}" in err and "nothing was added" in err


@pytest.mark.parametrize(
    ("pictures", "problem"),
    [("no_such_folder", "No such file or directory"), ("not_a.tar", "not a tar archive")],
)
def test_pictures_that_cannot_be_read_add_nothing_and_say_so(tmp_path, capsys, pictures, problem):
    """The rows and their pictures are one addition: a pictures path that is missing or not a
    tar is named before any row reaches the store, not after (a traceback, half added)."""
    row = {"run_id": "a", "run_key": "ka", "status": "failed", "method": "m", "dataset": "d"}
    rows = tmp_path / "new_rows.jsonl"
    rows.write_text(json.dumps(row) + "\n")
    (tmp_path / "not_a.tar").write_bytes(b"\x89PNG half a picture")
    store = tmp_path / "committed"
    given = tmp_path / pictures
    args = ["add", "--rows", str(rows), "--pictures", str(given), "--results-dir", str(store)]
    assert main(args) == 1
    assert not (store / "results.jsonl").exists()
    err = capsys.readouterr().err
    assert f"--pictures {given}:" in err and "nothing was added" in err
    assert re.search(problem, err)


def test_a_run_listed_twice_in_one_file_is_added_once(tmp_path):
    row = {"run_id": "a", "run_key": "ka", "status": "failed", "method": "m", "dataset": "d"}
    rows = tmp_path / "new_rows.jsonl"
    rows.write_text((json.dumps(row) + "\n") * 2)
    store = tmp_path / "committed"
    assert main(["add", "--rows", str(rows), "--results-dir", str(store)]) == 0
    assert len((store / "results.jsonl").read_text().splitlines()) == 1


def test_a_dry_run_simulates_the_window_with_the_estimates():
    plan = simulate_queue(queue_of(10, 100, 5, 20), jobs=1, seconds=50)
    assert [f["key"] for f in plan.finished] == ["run0", "run2", "run3"]
    assert [n["key"] for n in plan.not_started] == ["run1"]


def test_a_queue_that_fails_midway_still_hands_back_the_rows_written(tmp_path, monkeypatch):
    """The device keeps nothing after the call: rows finished before a failure must reach $OUT."""
    import anomaly_bench.engine.session_steps as session

    queue = tmp_path / "queue.yaml"
    queue.write_text(
        "steps:\n  - {name: s, experiment: table1_mnist, seeds: [0],"
        " only: {model: [iforest], data.normal_class: [0]}}\n"
    )
    store = tmp_path / "store"

    def fails_after_one_row(*args, **kwargs):
        row = {"run_id": "r1", "run_key": "k1", "method": "m", "dataset": "d",
               "status": "failed", "error": "diverged"}  # fmt: skip
        ResultsStore(store).append(row)
        raise OSError("no space left on device")

    monkeypatch.setattr(session, "run_queue", fails_after_one_row)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="no space left"):
        main(["run", "--out", str(out), "--queue", str(queue), "--results-dir", str(store),
              "--committed", str(tmp_path / "committed"), "--data-dir", str(tmp_path),
              "--manifest", str(tmp_path / "SHA256SUMS"), "--device", "X"])  # fmt: skip
    rows = [json.loads(line) for line in (out / "new_rows.jsonl").read_text().splitlines()]
    assert [row["run_id"] for row in rows] == ["r1"]
    summary = json.loads((out / "queue_summary.json").read_text())
    assert [left["why"] for left in summary["not_started"]] == ["data incomplete"]


@pytest.mark.slow
def test_a_session_trains_its_queued_run_in_a_process_of_its_own_and_hands_back_its_row(
    tmp_path, monkeypatch
):
    """The device call's path end to end on a CPU, before a GPU's minutes are spent on it: the
    data checked against its manifest, the run estimated from the committed rows, started as
    `anomaly_bench.train` in a process of its own, and its row and the summary written to --out
    (a tiny MNIST: 30 training and 20 test images)."""
    from tests.unit.data.test_sources import write_mnist

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "disabled")
    data = tmp_path / "data"
    raw = write_mnist(data)
    manifest = data / "SHA256SUMS"
    manifest.write_text(
        "".join(
            f"{hashlib.sha256(path.read_bytes()).hexdigest()}  MNIST/raw/{path.name}\n"
            for path in sorted(raw.iterdir())
        )
    )
    queue = tmp_path / "queue.yaml"
    queue.write_text(
        "steps:\n  - {name: s, experiment: table1_mnist, seeds: [0],"
        " only: {model: [iforest], data.normal_class: [0]}}\n"
    )
    # A committed CPU row of the method (another class) estimates the run; the H200's benchmark
    # does not: it is another device's.
    earlier = {"run_id": "earlier", "run_key": "another_run", "method": "iforest",
               "dataset": "mnist", "protocol": "paper", "normal_class": 5, "seed": 0,
               "auroc": 0.9, "status": "ok", "device": "cpu", "train_seconds": 6.0,
               "train_images_per_second": 1000.0, "test_images_per_second": 1000.0,
               "config": {"trainer": {"precision": "32-true"}}}  # fmt: skip
    ResultsStore(tmp_path / "committed").append(earlier)
    out = tmp_path / "out"
    code = main(["run", "--out", str(out), "--queue", str(queue), "--results-dir",
                 str(tmp_path / "store"), "--committed", str(tmp_path / "committed"),
                 "--data-dir", str(data), "--manifest", str(manifest), "--minutes", "4",
                 "--jobs", "2", "--device", "cpu", f"paths.data_dir={data}",
                 f"paths.log_dir={tmp_path / 'logs'}"])  # fmt: skip
    summary = json.loads((out / "queue_summary.json").read_text())
    assert code == 0, summary
    [finished] = summary["finished"]
    assert finished["returncode"] == 0 and summary["estimates_from"] == "cpu"
    [row] = [json.loads(line) for line in (out / "new_rows.jsonl").read_text().splitlines()]
    assert row["status"] == "ok" and row["run_key"] == finished["key"]
    assert (row["method"], row["normal_class"], row["n_train"]) == ("iforest", 0, 3)
    # The row says how the device was shared: the queue's jobs, passed to the run's process.
    assert (row["device_jobs"], row["device_mps"]) == (2, False)
    assert tarfile.is_tarfile(out / "pictures.tar")


def test_the_data_packed_here_unpacks_there_and_passes_the_manifest_check(tmp_path, capsys):
    """`pack` (here) and `unpack` (on the device) through the command, then `check`: the
    manifest travels in the pack, and every file arrives as it left."""
    from tests.unit.data.test_sources import write_mnist

    here, there = tmp_path / "here", tmp_path / "there"
    raw = write_mnist(here)
    (here / "SHA256SUMS").write_text(
        "".join(
            f"{hashlib.sha256(path.read_bytes()).hexdigest()}  MNIST/raw/{path.name}\n"
            for path in sorted(raw.iterdir())
        )
    )
    common = ["--manifest", str(here / "SHA256SUMS")]
    assert main(["pack", "--datasets", "mnist", "--data-dir", str(here), "--out",
                 str(tmp_path / "carry"), *common]) == 0  # fmt: skip
    [call] = json.loads(capsys.readouterr().out)["calls"]
    assert call == [str(tmp_path / "carry" / "data.tar.xz.part00")]
    assert main(["unpack", "--parts", str(tmp_path / "carry"), "--data-dir", str(there)]) == 0
    assert main(["check", "--data-dir", str(there), "--manifest", str(there / "SHA256SUMS")]) == 0
    assert "5 files unpacked" in capsys.readouterr().out
