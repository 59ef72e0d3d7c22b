"""`python -m anomaly_bench.predict` / `anomaly-bench predict`: score image files, folders or globs
with a finished run; one CSV line per image.

The work is engine/prediction.py's, imported once the arguments parse (it loads torch, seconds);
this is its command line."""

from __future__ import annotations

import sys
from pathlib import Path

from anomaly_bench.settings.checks import COUNT_ARG, SHARE_ARG
from anomaly_bench.settings.command_line import verb_parser
from anomaly_bench.store.row_schema import THRESHOLDS


def main(argv: list[str] | None = None) -> None:
    parser = verb_parser(__doc__)
    parser.add_argument("images", nargs="+", help="image files, folders or globs ('shots/*.png')")
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="the results store of the run"
    )
    parser.add_argument(
        "--run-key",
        help="the run to use: its key, or a start of it no other run's key has "
        "(ganomaly_mnist_class3); default: the store's only run",
    )
    parser.add_argument("--checkpoint", type=Path, help="default: the run's last.ckpt")
    parser.add_argument(
        "--threshold",
        choices=list(THRESHOLDS),
        default="held_out",
        help="held_out: chosen on the run's held-out normal images (needs data.val_fraction > 0)"
        "; youden: chosen on the test set, labelled so in the CSV",
    )
    parser.add_argument(
        "--false-alarm-rate",
        type=SHARE_ARG,
        help="flag at the threshold that flags this share of the run's held-out normal images, "
        "scored again (0.01: one normal image in a hundred); without it, the run's own "
        "held-out threshold (5 %% by default)",
    )
    parser.add_argument(
        "--device", help="where to score: cpu, cuda or cuda:N (default: the GPU when there is one)"
    )
    parser.add_argument("--batch-size", type=COUNT_ARG, default=64, help="images scored at once")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("predictions.csv"),
        help="the CSV, a line per image; - writes it to standard output (and what else predict "
        "says to standard error)",
    )
    parser.add_argument(
        "--maps",
        type=Path,
        help="a folder for each image's reconstruction and anomaly map (|x - G(x)| over the "
        "image), for the methods that reconstruct",
    )
    parser.add_argument(
        "--export",
        type=Path,
        help="also write the scoring graph as an ONNX file, checked with onnxruntime against "
        "the model on the first batch of images (needs anomaly-bench[export])",
    )
    parser.add_argument(
        "--skip-unreadable",
        action="store_true",
        help="score the other images when one cannot be read; its line gives the reason in "
        "`error` (without it, the first such image stops predict, naming it)",
    )
    args = parser.parse_args(argv)
    from anomaly_bench.engine.prediction import STDOUT, predict

    try:
        prediction = predict(
            args.results_dir,
            args.images,
            args.output,
            args.run_key,
            args.checkpoint,
            args.threshold,
            args.batch_size,
            args.maps,
            args.export,
            args.skip_unreadable,
            args.false_alarm_rate,
            args.device,
        )
    except (ValueError, FileNotFoundError) as err:
        parser.error(str(err))
    said = sys.stderr if args.output == STDOUT else sys.stdout
    print(prediction.summary(), file=said)
    if args.output != STDOUT:
        print(f"written: {args.output}")
    if args.maps is not None:
        print(f"maps: {args.maps}", file=said)
    if args.export is not None:
        print(f"onnx: {args.export}", file=said)


if __name__ == "__main__":
    main()
