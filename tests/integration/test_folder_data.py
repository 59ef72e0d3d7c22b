"""Your own images: a folder dataset written from the bundled digits trains and scores like any
other source, and every bad folder gets an error that names the file or folder."""

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from anomaly_bench.cli import main
from anomaly_bench.data.batches import scale_to_unit_range
from anomaly_bench.data.folder import stack
from anomaly_bench.engine.onnx_export import TOLERANCE
from anomaly_bench.engine.prediction import Detector
from anomaly_bench.engine.run import train
from anomaly_bench.engine.trained_model import load_run
from anomaly_bench.evaluation.scoring import score_split
from anomaly_bench.models.iforest import Iforest
from anomaly_bench.store.results import ResultsStore
from tests.conftest import run_cli


def write_digits(
    folder: Path, digits: list[int], per_digit: int, suffix: str, size: int, start: int = 0
) -> None:
    """Digits as image files: grey 8x8 scaled to `size`, as PNG or JPEG."""
    data = load_digits()
    folder.mkdir(parents=True, exist_ok=True)
    for digit in digits:
        chosen = data.images[data.target == digit][start : start + per_digit]
        for i, pixels in enumerate(chosen):
            image = Image.fromarray((pixels * 255 / 16).astype(np.uint8)).resize((size, size))
            image.save(folder / f"{digit}_{i}{suffix}")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "images"
    write_digits(root / "good", [0], 60, ".png", 16)
    write_digits(root / "defect", [1, 7], 15, ".jpg", 24)  # another format and size
    return root


def folder_run(make_config, root: Path, *overrides: str) -> dict:
    cfg = make_config(
        "data=folder",
        f"data.root={root}",
        "data.normal_dir=good",
        "data.abnormal_dir=defect",
        "data.channels=1",
        "model=iforest",
        "trainer.enable_progress_bar=false",
        *overrides,
    )
    return train(cfg)


def test_a_folder_trains_and_its_auroc_is_scikit_learns_on_the_saved_scores(make_config, folder):
    row = folder_run(make_config, folder)
    assert row["status"] == "ok" and row["dataset"] == "folder"
    assert row["normal_class_name"] == "normal"
    # 60 normals: 12 held out for the test (normal_split_ratio 0.2), 48 to train; 30 anomalies.
    assert (row["n_train"], row["n_test"], row["n_test_normal"]) == (48, 42, 12)
    saved = np.load(row["scores_path"])
    assert row["auroc"] == pytest.approx(roc_auc_score(saved["labels"], saved["scores"]))
    assert row["auroc"] > 0.9  # zeros against ones and sevens


def test_a_separate_normal_test_folder_is_used_whole(make_config, folder):
    write_digits(folder / "good_test", [0], 20, ".png", 16, start=60)  # not in good/
    row = folder_run(make_config, folder, "data.normal_test_dir=good_test")
    assert (row["n_train"], row["n_test_normal"]) == (60, 20)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("corrupt", r"image .*good/0_3\.png cannot be read"),
        ("empty", r"data\.abnormal_dir: .*defect holds no image"),
        ("missing", r"data\.normal_dir: .*nowhere is not a folder"),
        ("duplicate", r"image .*defect/copy\.png is a copy of .*good/0_5\.png"),
        ("no anomalies", r"data\.abnormal_dir is null: without anomalies"),
        ("two channels", r"data\.channels=2 is not allowed; allowed: 1, 3"),
    ],
)
def test_a_bad_folder_is_named_and_leaves_only_a_failed_row(make_config, folder, breakage, message):
    overrides = []
    if breakage == "corrupt":
        (folder / "good" / "0_3.png").write_bytes(b"not an image")
    elif breakage == "empty":
        for path in (folder / "defect").iterdir():
            path.unlink()
    elif breakage == "missing":
        overrides = ["data.normal_dir=nowhere"]
    elif breakage == "duplicate":
        (folder / "defect" / "copy.png").write_bytes((folder / "good" / "0_5.png").read_bytes())
    elif breakage == "no anomalies":
        overrides = ["data.abnormal_dir=null"]
    elif breakage == "two channels":
        overrides = ["data.channels=2"]
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        folder_run(make_config, folder, *overrides)
    rows = ResultsStore(make_config().paths.results_dir).read()
    assert [r["status"] for r in rows] == ["failed"]


def test_predict_reproduces_the_runs_test_scores_and_flags_with_the_held_out_threshold(
    make_config, folder, tmp_path, capsys
):
    """iForest refits its forest from the run's training data; the anomalies are the last 30
    images of the test split, in file-name order, as the folder gives them."""
    row = folder_run(make_config, folder, "data.val_fraction=0.2")
    saved = np.load(row["scores_path"])["scores"]
    output = tmp_path / "predictions.csv"
    results = Path(make_config().paths.results_dir)
    main(["predict", str(folder / "defect"), "--results-dir", str(results),
          "--output", str(output)])  # fmt: skip
    with output.open() as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == 30 and lines[0]["path"].endswith("1_0.jpg")
    predicted = np.array([float(line["score"]) for line in lines])
    assert np.allclose(predicted, saved[-30:], rtol=1e-5, atol=1e-6)
    assert {line["threshold_source"] for line in lines} == {"held-out normals"}
    assert float(lines[0]["threshold"]) == pytest.approx(row["val_threshold"])
    flagged = sum(int(line["flag"]) for line in lines)
    assert flagged > 20  # most anomalies flagged
    said = capsys.readouterr().out
    assert f"scored 30 image(s); flagged {flagged} ({flagged / 30:.1%}) at " in said
    assert "the threshold from held-out normals" in said
    # `--output -`: the same CSV on standard output, and what else predict says on stderr.
    main(["predict", str(folder / "defect"), "--results-dir", str(results), "--output", "-"])
    printed = capsys.readouterr()
    assert printed.out == output.read_bytes().decode()
    assert f"scored 30 image(s); flagged {flagged}" in printed.err


@pytest.mark.parametrize("model", ["ganomaly", "dagmm", "wgan"])
def test_predict_reproduces_the_runs_test_scores_whatever_its_score_reads(
    make_config, folder, tmp_path, model
):
    """GANomaly scores from its weights alone; DAGMM refits its mixture and WGAN its critic's
    mean on the training images, which predict reads again for them only."""
    row = folder_run(make_config, folder, f"model={model}", "trainer.max_epochs=1")
    saved = np.load(row["scores_path"])["scores"]
    output = tmp_path / "predictions.csv"
    results = str(Path(make_config().paths.results_dir))
    main(["predict", str(folder / "defect"), "--results-dir", results, "--output", str(output)])
    with output.open() as f:
        predicted = np.array([float(line["score"]) for line in csv.DictReader(f)])
    assert np.allclose(predicted, saved[-30:], rtol=1e-5, atol=1e-6)


def test_a_detector_in_ones_own_code_scores_as_predict_does(make_config, folder, tmp_path):
    """Loaded once: its file scores are the CSV's, its scores of the same pixels read elsewhere
    equal them, its threshold is the CSV's; pixels of another shape are refused naming it."""
    folder_run(make_config, folder, "model=memae", "trainer.max_epochs=1", "data.val_fraction=0.2")
    results, output = Path(make_config().paths.results_dir), tmp_path / "p.csv"
    main(
        ["predict", str(folder / "defect"), "--results-dir", str(results), "--output", str(output)]
    )
    with output.open() as f:
        lines = list(csv.DictReader(f))
    detector = Detector.load(results, run_key="memae")
    files = [Path(line["path"]) for line in lines]
    scored = detector.score_files(files)
    assert [f"{scored.scores[path]:.8g}" for path in files] == [line["score"] for line in lines]
    pixels = stack(files, detector.channels, detector.image_size)
    expected = torch.tensor([scored.scores[path] for path in files])
    assert torch.allclose(detector.score_pixels(pixels), expected, rtol=1e-5, atol=1e-6)
    assert detector.threshold().value == pytest.approx(float(lines[0]["threshold"]))
    with pytest.raises(ValueError, match=r"torch.float32 \[30, 1, 32, 32\] is not allowed"):
        detector.score_pixels(pixels.float())
    with pytest.raises(
        ValueError, match="threshold='best' is not allowed; allowed: held_out, youden"
    ):
        detector.threshold("best")


def test_a_run_used_from_another_folder_finds_its_files(tmp_path, monkeypatch, capsys):
    """A run trained as users run it (relative results, logs and images), used from a notebook's
    folder by its store's path: Detector finds its checkpoint and scores as the run did, and
    reads its held-out images for a chosen rate; pictures reads its test split from there."""
    write_digits(tmp_path / "images" / "good", [0], 60, ".png", 16)
    write_digits(tmp_path / "images" / "defect", [1, 7], 15, ".jpg", 24)
    folder = ["data=folder", "data.root=images", "data.normal_dir=good", "data.abnormal_dir=defect"]
    done = run_cli(*folder, "data.channels=1", "data.val_fraction=0.2", "model=memae",
                   "trainer.max_epochs=1", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    detector = Detector.load("../results")
    saved = np.load(detector.row["scores_path"])["scores"]
    scored = detector.score_files(sorted(Path("../images/defect").iterdir()))
    assert np.allclose(list(scored.scores.values()), saved[-30:], rtol=1e-5, atol=1e-6)
    assert detector.threshold(false_alarm_rate=0.1).value is not None
    main(["pictures", "--results-dir", "../results", "--redraw"])
    assert ": drawn: ../results/example_pictures/memae_folder" in capsys.readouterr().out


def test_the_deployed_threshold_flags_the_stated_share_of_held_out_normals(make_config, tmp_path):
    """The threshold `predict` flags with by default, applied to the run's own held-out normal
    images (rebuilt as predict rebuilds the run), flags `val_false_alarm_target` of them."""
    root = tmp_path / "many"
    write_digits(root / "good", [0], 170, ".png", 16)
    write_digits(root / "defect", [1], 20, ".png", 16)
    row = folder_run(make_config, root, "data.val_fraction=0.5",
                     "callbacks.anomaly_metrics.val_false_alarm_target=0.1")  # fmt: skip
    model, data = load_run(row, None, torch.device("cpu"))
    data.setup("fit")
    held_out = score_split(model, data.val_dataloader())["scores"]
    assert len(held_out) == row["n_val"] == 68  # half of the 136 training normals
    flagged = float((held_out > row["val_threshold"]).double().mean())
    assert abs(flagged - 0.1) <= 1.5 / len(held_out)


def test_only_a_score_fitted_on_the_training_images_needs_them_to_predict(
    make_config, folder, tmp_path, capsys
):
    """MemAE scores from its weights alone: with the training folder moved away, predict scores
    as before. iForest refits its forest on the training images, so predict names the folder."""
    memae = folder_run(make_config, folder, "model=memae", "trainer.max_epochs=1")["run_key"]
    forest = folder_run(make_config, folder)["run_key"]
    results = str(Path(make_config().paths.results_dir))
    images = tmp_path / "new"
    shutil.copytree(folder / "defect", images)
    before, after = tmp_path / "before.csv", tmp_path / "after.csv"
    command = ["predict", str(images), "--results-dir", results, "--run-key", memae, "--output"]
    main([*command, str(before)])
    folder.rename(tmp_path / "moved")
    main([*command, str(after)])
    assert before.read_text() == after.read_text() and len(before.read_text().splitlines()) == 31
    with pytest.raises(SystemExit):
        main(["predict", str(images), "--results-dir", results, "--run-key", forest])
    said = capsys.readouterr().err
    assert "score is fitted on the run's training images" in said
    assert f"{folder / 'good'} is not a folder" in said


def test_predict_scores_with_a_smoke_test_and_says_it_is_one(make_config, folder, tmp_path, caplog):
    """A run cut short never counts as done, yet it is the first run a newcomer tries predict on."""
    folder_run(make_config, folder, "model=memae", "trainer.max_epochs=1",
               "+trainer.limit_train_batches=1")  # fmt: skip
    output = tmp_path / "p.csv"
    results = str(Path(make_config().paths.results_dir))
    main(["predict", str(folder / "defect"), "--results-dir", results, "--output", str(output)])
    assert len(output.read_text().splitlines()) == 31
    assert "is a smoke test (trainer.limit_train_batches=1)" in caplog.text


def test_a_chosen_false_alarm_rate_flags_that_share_of_the_held_out_normals(
    make_config, tmp_path, monkeypatch
):
    """At the run's own target (5 %) predict finds the threshold the run chose while training;
    at 25 % it flags a quarter of the held-out normals, rebuilt as predict rebuilds the run. The
    forest is fitted on the training images once per call, not again for the held-out scores."""
    root = tmp_path / "many"
    write_digits(root / "good", [0], 170, ".png", 16)
    write_digits(root / "defect", [1], 20, ".png", 16)
    row = folder_run(make_config, root, "data.val_fraction=0.5")
    results = str(Path(make_config().paths.results_dir))
    fits = []
    fit = Iforest.prepare_scoring
    monkeypatch.setattr(Iforest, "prepare_scoring", lambda model: fits.append(1) or fit(model))
    thresholds = {}
    for rate in (0.05, 0.25):
        output = tmp_path / f"{rate}.csv"
        main(["predict", str(root / "defect"), "--results-dir", results, "--output", str(output),
              "--false-alarm-rate", str(rate)])  # fmt: skip
        with output.open() as f:
            lines = list(csv.DictReader(f))
        assert {line["threshold_source"] for line in lines} == {
            f"held-out normals at false-alarm rate {rate}"
        }
        thresholds[rate] = float(lines[0]["threshold"])
    assert len(fits) == 2  # one fit for each of the two calls
    assert thresholds[0.05] == pytest.approx(row["val_threshold"], rel=1e-6)
    model, data = load_run(row, None, torch.device("cpu"))
    data.setup("fit")
    held_out = score_split(model, data.val_dataloader())["scores"]
    flagged = float((held_out > thresholds[0.25]).double().mean())
    assert abs(flagged - 0.25) <= 1.5 / len(held_out)


def test_predict_without_held_out_normals_scores_but_does_not_flag(make_config, folder, tmp_path):
    folder_run(make_config, folder)
    output = tmp_path / "predictions.csv"
    results = str(Path(make_config().paths.results_dir))
    images = [str(folder / "defect" / "1_0.jpg"), str(folder / "good" / "0_*.png")]
    main(["predict", *images, "--results-dir", results, "--output", str(output)])
    with output.open() as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == 61 and {line["flag"] for line in lines} == {""}
    assert {line["threshold_source"] for line in lines} == {"none"}


def test_predict_names_what_it_cannot_read(make_config, folder, tmp_path, capsys):
    folder_run(make_config, folder)
    (tmp_path / "bad.png").write_bytes(b"nope")
    results = str(Path(make_config().paths.results_dir))
    for image, message in (
        (str(tmp_path / "bad.png"), "bad.png cannot be read"),
        (str(tmp_path / "none_*.png"), "no such file or folder, and no file matches it"),
    ):
        with pytest.raises(SystemExit):
            main(["predict", image, "--results-dir", results])
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["predict", str(tmp_path / "bad.png"), "--results-dir", results, "--skip-unreadable",
              "--output", str(tmp_path / "p.csv")])  # fmt: skip
    assert "none of the 1 images could be read" in capsys.readouterr().err


def test_skip_unreadable_scores_the_others_as_without_it_and_says_why_in_the_skipped_line(
    make_config, folder, tmp_path, capsys
):
    """A corrupt file among the inputs: its line keeps its place with no score and the reason;
    the others score as they do alone, and their maps keep their places among the inputs."""
    folder_run(make_config, folder, "model=memae", "trainer.max_epochs=1")
    results = str(Path(make_config().paths.results_dir))
    broken = tmp_path / "broken.png"
    broken.write_bytes((folder / "good" / "0_1.png").read_bytes()[:40])  # a cut-off PNG
    good, defect = str(folder / "good" / "0_0.png"), str(folder / "defect" / "1_0.jpg")
    both, alone = tmp_path / "both.csv", tmp_path / "alone.csv"
    main(["predict", good, str(broken), defect, "--results-dir", results, "--output", str(both),
          "--skip-unreadable", "--maps", str(tmp_path / "maps")])  # fmt: skip
    assert "scored 2 image(s); 1 unreadable, left unscored" in capsys.readouterr().out
    main(["predict", good, defect, "--results-dir", results, "--output", str(alone)])
    with both.open() as f, alone.open() as g:
        skipping, plain = list(csv.DictReader(f)), list(csv.DictReader(g))
    assert [line["path"] for line in skipping] == [good, str(broken), defect]
    assert skipping[1]["score"] == skipping[1]["flag"] == ""
    assert "broken.png cannot be read" in skipping[1]["error"]
    assert [skipping[0], skipping[2]] == plain and {line["error"] for line in plain} == {""}
    drawn = sorted(p.name for p in (tmp_path / "maps").iterdir())
    assert drawn == ["00000_0_0_map.png", "00000_0_0_reconstruction.png",
                     "00002_1_0_map.png", "00002_1_0_reconstruction.png"]  # fmt: skip


def test_predict_draws_each_images_reconstruction_and_anomaly_map_at_its_own_size(
    make_config, folder, tmp_path
):
    """MemAE reconstructs: its map is |x - G(x)| over the image, at the file's own size (16 px
    normals, 24 px anomalies), and a zero it learned to draw differs less than a one."""
    folder_run(make_config, folder, "model=memae", "trainer.max_epochs=3")
    results = str(Path(make_config().paths.results_dir))
    maps = tmp_path / "maps"
    images = [str(folder / "good" / "0_0.png"), str(folder / "defect" / "1_0.jpg")]
    main(["predict", *images, "--results-dir", results, "--output", str(tmp_path / "p.csv"),
          "--maps", str(maps)])  # fmt: skip
    drawn = sorted(p.name for p in maps.iterdir())
    assert drawn == ["00000_0_0_map.png", "00000_0_0_reconstruction.png",
                     "00001_1_0_map.png", "00001_1_0_reconstruction.png"]  # fmt: skip
    normal = np.asarray(Image.open(maps / "00000_0_0_map.png"))
    anomaly = np.asarray(Image.open(maps / "00001_1_0_map.png"))
    assert normal.shape == (16, 16, 3) and anomaly.shape == (24, 24, 3)
    assert np.asarray(Image.open(maps / "00001_1_0_reconstruction.png")).shape == (24, 24, 3)
    # The jet colour map runs blue (low) to red (high): the anomaly's map is the redder.
    redness = [float(m[..., 0].mean()) - float(m[..., 2].mean()) for m in (normal, anomaly)]
    assert redness[1] > redness[0]


def test_export_writes_an_onnx_graph_whose_scores_equal_the_models(
    make_config, folder, tmp_path, monkeypatch, capsys
):
    """MemAE's score is one forward pass: the ONNX file, run by onnxruntime on any batch size,
    gives the CSV's scores (the model's) to the stated tolerance; one that would not is never
    written over a good one."""
    onnxruntime = pytest.importorskip("onnxruntime")
    folder_run(make_config, folder, "model=memae", "trainer.max_epochs=1")
    results = str(Path(make_config().paths.results_dir))
    exported, output = tmp_path / "memae.onnx", tmp_path / "p.csv"
    main(["predict", str(folder / "defect"), "--results-dir", results, "--output", str(output),
          "--export", str(exported), "--batch-size", "8"])  # fmt: skip
    with output.open() as f:
        lines = list(csv.DictReader(f))
    session = onnxruntime.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    images = scale_to_unit_range(stack([Path(line["path"]) for line in lines], 1, 32))
    got = session.run(None, {"images": images.numpy()})[0]  # all 30 at once: the batch is free
    expected = np.array([float(line["score"]) for line in lines])
    assert np.allclose(got, expected, **TOLERANCE)
    # A graph that fails the check is not written, and the good file of that name stays.
    good = exported.read_bytes()
    monkeypatch.setitem(TOLERANCE, "atol", -1.0)
    with pytest.raises(SystemExit):
        main(["predict", str(folder / "defect"), "--results-dir", results,
              "--output", str(output), "--export", str(exported)])  # fmt: skip
    assert "scores differ from PyTorch's" in capsys.readouterr().err
    assert exported.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir() if "onnx" in p.name) == ["memae.onnx"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--maps", "OUT"], "Iforest draws no reconstruction"),
        (["--export", "OUT"], "Iforest cannot be one ONNX graph: its score is scikit-learn's"),
        (["--false-alarm-rate", "1.5"], "'1.5' is not allowed; allowed: a number in (0, 1)"),
        (["--false-alarm-rate", "0.1", "--threshold", "youden"], "cannot go with threshold youden"),
        (["--false-alarm-rate", "0.1"], "held out none (data.val_fraction=0)"),
        (["--device", "gpu"], "device 'gpu' is not allowed; allowed: cpu, cuda, cuda:N"),
        (["--device", f"cuda:{torch.cuda.device_count()}"], "CUDA device(s); allowed: cpu"),
        (["--output", "FOLDER"], "is a folder; allowed: a file's path in a writable folder"),
        (["--export", "FOLDER"], "is a folder; allowed: a file's path in a writable folder"),
    ],
)
def test_what_predict_cannot_do_for_a_run_is_refused_saying_why_and_writes_nothing(
    make_config, folder, tmp_path, capsys, options, message
):
    folder_run(make_config, folder)
    results = str(Path(make_config().paths.results_dir))
    places = {"OUT": str(tmp_path / "out"), "FOLDER": str(tmp_path)}
    options = [places.get(option, option) for option in options]
    with pytest.raises(SystemExit):
        main(["predict", str(folder / "defect"), "--results-dir", results,
              "--output", str(tmp_path / "p.csv"), *options])  # fmt: skip
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "p.csv").exists()
