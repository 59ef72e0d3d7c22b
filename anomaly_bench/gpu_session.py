"""One session's turn of the GPU queue, and the steps around it (docs/gpu_session.md).

    python -m anomaly_bench.gpu_session pack              the data in parts, one per device call
    python -m anomaly_bench.gpu_session unpack            (on the device) the parts joined, unpacked
    python -m anomaly_bench.gpu_session check             the data here against its SHA256SUMS
    python -m anomaly_bench.gpu_session run --out DIR     the queue's next runs, until the deadline
    python -m anomaly_bench.gpu_session add --rows FILE   the rows a session brought back, committed

The work (what `run` hands back, and why) is engine/session_steps.py's, imported once the
arguments parse (it loads torch, seconds); this is its command line.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from anomaly_bench import REFERENCE_RESULTS
from anomaly_bench.engine.data_pack import PACK_DIR
from anomaly_bench.settings.checks import COUNT_ARG, POSITIVE_ARG
from anomaly_bench.settings.command_line import DefaultsShown, description, verb_parser
from anomaly_bench.settings.experiments import DATA_FOLDERS, QUEUE_FILE


def main(argv: list[str] | None = None) -> int:
    parser = verb_parser(__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--data-dir", type=Path, default=Path("data"), help="the datasets' folder")
    data.add_argument(
        "--manifest",
        type=Path,
        default=Path("data/SHA256SUMS"),
        help="the datasets' sizes and checksums",
    )

    def verb(
        name: str, text: str, parents: list[argparse.ArgumentParser]
    ) -> argparse.ArgumentParser:
        return verbs.add_parser(
            name,
            parents=parents,
            help=text,
            description=description(text),
            formatter_class=DefaultsShown,
        )

    p = verb("pack", "the data in parts, one per device call", [data])
    p.add_argument(
        "--datasets",
        nargs="+",
        default=["cifar10"],
        choices=sorted(DATA_FOLDERS),
        help="what to pack",
    )
    p.add_argument("--out", type=Path, default=PACK_DIR, help="where the parts go")
    u = verb("unpack", "on the device: the parts unpacked", [data])
    u.add_argument("--parts", type=Path, default=PACK_DIR, help="where the parts are")
    verb("check", "the data here against its manifest", [data])
    r = verb("run", "the queue's next runs, to a deadline", [data])
    r.add_argument("--out", type=Path, required=True, help="what the machine hands back goes here")
    r.add_argument("--minutes", type=POSITIVE_ARG, default=7.0, help="the deadline, from the start")
    r.add_argument("--jobs", type=COUNT_ARG, default=14, help="runs at once on the device")
    r.add_argument(
        "--results-dir", type=Path, default=Path("results/gpu_queue"), help="the queue's own store"
    )
    r.add_argument(
        "--committed", type=Path, default=REFERENCE_RESULTS, help="the rows already done, to skip"
    )
    r.add_argument(
        "--bench",
        type=Path,
        default=REFERENCE_RESULTS / "bench_nvidia_h200.json",
        help="the speed figures each run's estimate comes from",
    )
    r.add_argument("--queue", type=Path, default=QUEUE_FILE, help="the steps, in order")
    r.add_argument("--dry-run", action="store_true", help="say what would run, run nothing")
    r.add_argument("--device", help="plan for this device (default: this one)")
    r.add_argument(
        "--mps",
        action="store_true",
        help="run CUDA's MPS daemon so the jobs' kernels share the GPU (time-slicing without it, "
        "or where it cannot start)",
    )
    r.add_argument("overrides", nargs="*", help="added to every run (trainer=gpu ...)")
    a = verb("add", "append the rows a session or a CPU grid brought back", [])
    a.add_argument("--rows", type=Path, required=True, help="a results.jsonl to add")
    a.add_argument("--pictures", type=Path, help="a session's pictures.tar or a picture folder")
    a.add_argument(
        "--results-dir", type=Path, default=REFERENCE_RESULTS, help="the committed store they join"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from anomaly_bench.engine import session_steps

    done = getattr(session_steps, args.verb)(args)
    return done if isinstance(done, int) else 0


if __name__ == "__main__":
    sys.exit(main())
