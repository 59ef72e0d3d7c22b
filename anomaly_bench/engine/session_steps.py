"""The steps of a session's turn of the GPU queue (`anomaly-bench gpu-session`, whose command
line is anomaly_bench/gpu_session.py; docs/gpu_session.md): the data packed for the device calls
and checked there, the queue run to a deadline, and the rows it brought back added.

`run` copies the committed rows into its own store (so runs already done are skipped), starts
only runs whose data is complete and whose estimate fits before `--minutes`, and writes what the
machine must hand back into `--out`: the new rows, their example pictures (one tar), a summary.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import torch

from anomaly_bench import CONF_DIR
from anomaly_bench.data.checksums import (
    DATA_FOLDERS,
    check_files,
    complete_datasets,
    read_manifest,
)
from anomaly_bench.engine import data_pack
from anomaly_bench.engine.carry_plan import call_room, carry_plan, tree_bytes
from anomaly_bench.engine.device_queue import (
    QueuedRun,
    QueueReport,
    done_keys,
    load_queue,
    longest_first,
    pending_runs,
    run_queue,
    train_command,
)
from anomaly_bench.engine.gpu_sharing import (
    MpsUnavailableError,
    mps_daemon,
    sharing_environment,
)
from anomaly_bench.engine.queue_simulation import (
    beyond_window,
    projected_seconds,
    simulate_queue,
)
from anomaly_bench.engine.run_estimates import (
    Sharing,
    bench_rates,
    estimate_device,
    measured_rates,
)
from anomaly_bench.engine.runtime import device_name
from anomaly_bench.settings.whole_files import write_whole, written_whole
from anomaly_bench.store.results import PICTURES_DIR, ResultsStore, parsed_row
from anomaly_bench.store.row_schema import ResultRow, interrupted

REPO = CONF_DIR.parents[1]
NEW_ROWS = "new_rows.jsonl"
PICTURES_TAR = "pictures.tar"
SUMMARY = "queue_summary.json"
# What `add` needs of a row beyond a usable one: run id (added once) and run key (its pictures).
IDENTITY = ("run_id", "run_key")


def pack(args: argparse.Namespace) -> None:
    """The datasets' files and their manifest packed into parts that each fill a device call
    beside the working tree (`engine/data_pack.py`), and the calls that carry them."""
    manifest = read_manifest(args.manifest)
    folders = tuple(DATA_FOLDERS[name] for name in args.datasets)
    names = [
        str(args.manifest.relative_to(args.data_dir)),
        *(p for p in manifest if p.startswith(folders)),
    ]
    tree = tree_bytes(REPO)
    parts = data_pack.pack(args.data_dir, names, args.out, call_room(tree))
    files = [(str(part), part.stat().st_size) for part in parts]
    print(json.dumps({"tree_bytes": tree, "calls": carry_plan(files, tree)}, indent=2))


def unpack(args: argparse.Namespace) -> int:
    """On the device: the parts carried so far joined and unpacked into the data folder."""
    try:
        names = data_pack.unpack(args.parts, args.data_dir)
    except ValueError as err:
        print(err)
        return 1
    print(f"{len(names)} files unpacked into {args.data_dir}")
    return 0


def check(args: argparse.Namespace) -> int:
    manifest = read_manifest(args.manifest)
    states = check_files(args.data_dir, manifest)
    for state in states:
        print(f"{state.state:8} {state.path}")
    return 0 if all(s.state == "ok" for s in states) else 1


def seed_store(store: ResultsStore, committed: ResultsStore) -> None:
    """The committed rows into the session's store (once each), so finished runs are skipped."""
    have = {row.get("run_id") for row in store.read()}
    for row in committed.read():
        if row.get("run_id") not in have:
            store.append(row)


def run(args: argparse.Namespace) -> int:
    store, committed = ResultsStore(args.results_dir), ResultsStore(args.committed)
    seed_store(store, committed)
    device = args.device or device_name(
        torch.device("cuda" if torch.cuda.is_available() else "cpu")
    )
    rows = store.read()
    estimated_from = estimate_device(rows, device)
    if estimated_from != device:
        print(f"no rows of {device} yet: estimates from the rows of {estimated_from}")
    if args.dry_run:
        runs, held = queued_runs(args, rows, estimated_from, Sharing(args.jobs, args.mps))
        print_plan(runs, [r for r in runs if r.key not in held], len(held), args.jobs, args.minutes)
        return 0
    logs = Path(args.results_dir) / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    def launch(queued: QueuedRun) -> subprocess.Popen:
        out = (logs / f"{queued.key}.log").open("w")
        return subprocess.Popen(
            train_command(queued),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=sharing_environment(args.jobs),
        )

    report, sharing = QueueReport(), "time-slicing"
    try:
        with ExitStack() as stack:
            sharing = gpu_sharing(stack, args.mps)
            runs, held = queued_runs(
                args, rows, estimated_from, Sharing(args.jobs, sharing == "MPS")
            )
            incomplete = [{"key": key, "why": "data incomplete"} for key in held]
            report = QueueReport(not_started=incomplete)
            startable = [run for run in runs if run.key not in held]
            report = run_queue(startable, launch, args.jobs, args.minutes * 60)
        report.not_started += incomplete
    finally:  # whatever happens, the rows already written go back with the call
        about = {"device": device, "estimates_from": estimated_from, "sharing": sharing}
        write_outputs(args.out, store, committed, report, about)
    failed = [f for f in report.finished if f["returncode"] != 0]
    return 1 if failed or report.terminated else 0


def queued_runs(
    args: argparse.Namespace, rows: list[dict], estimated_from: str, sharing: Sharing
) -> tuple[list[QueuedRun], set[str]]:
    """The queue's pending runs, longest first in each step, estimated for the way the device
    will be shared, and the keys of those whose dataset is incomplete here (held)."""
    bench = json.loads(args.bench.read_text()) if args.bench and args.bench.is_file() else {}
    extra = (f"paths.results_dir={args.results_dir}", "trainer.enable_progress_bar=false")
    runs = longest_first(
        pending_runs(
            load_queue(args.queue),
            done_keys(rows),
            measured_rates(rows, estimated_from),
            bench_rates(bench, args.jobs, estimated_from),
            sharing,
            extra=(*extra, *args.overrides),
        )
    )
    ready = complete_datasets(args.data_dir, args.manifest)
    print(f"{len(runs)} runs pending under {sharing}; data complete for: {sorted(ready) or 'none'}")
    return runs, {run.key for run in runs if run.dataset not in ready}


def print_plan(
    runs: list[QueuedRun], startable: list[QueuedRun], held: int, jobs: int, minutes: float
) -> None:
    """The window simulated with the estimates, then each step in one stretch without a
    deadline (what a goal such as "Table 3 in five minutes" is held against)."""
    plan = simulate_queue(startable, jobs, minutes * 60)
    print(f"would finish {len(plan.finished)} runs in {minutes:g} minutes:")
    for done in plan.finished:
        print(f"  {done['step']:22} {done['key']:60} ~{done['estimate_s']:.0f} s")
    print(f"would leave {len(plan.not_started) + held} runs")
    too_long = beyond_window(startable, minutes * 60)
    if too_long:
        print(f"never started in a {minutes:g}-minute window at {jobs} jobs (each needs more):")
        for (step, method), estimates in too_long.items():
            print(
                f"  {step:22} {method:14} {len(estimates):4} runs  "
                f"~{min(estimates):.0f}-{max(estimates):.0f} s each"
            )
    print(f"each step's pending runs in one stretch without a deadline, {jobs} jobs:")
    for step in dict.fromkeys(run.step for run in runs):
        mine = [run for run in runs if run.step == step]
        seconds = projected_seconds(mine, jobs)
        took = "some runs have no estimate" if seconds is None else f"~{seconds / 60:.1f} min"
        print(f"  {step:22} {len(mine):4} runs  {took}")


def gpu_sharing(stack: ExitStack, mps: bool) -> str:
    """How the queue's jobs share the GPU: under the MPS daemon (entered into `stack`) when
    asked and it starts, else by time-slicing, with the reason printed."""
    if not mps:
        return "time-slicing"
    try:
        stack.enter_context(mps_daemon())
    except MpsUnavailableError as err:
        print(f"{err}; the runs share the GPU by time-slicing")
        return "time-slicing"
    return "MPS"


def write_outputs(
    out: Path, store: ResultsStore, committed: ResultsStore, report: QueueReport, about: dict
) -> None:
    """The new rows, their pictures (one tar: a device call hands back at most 8 files) and a
    summary: the device and whose rows estimated its runs (`about`), what ran, what was left and
    why."""
    out.mkdir(parents=True, exist_ok=True)
    known = {row.get("run_id") for row in committed.read()}
    new = [row for row in store.read() if row.get("run_id") not in known]
    write_whole(out / NEW_ROWS, "".join(json.dumps(row) + "\n" for row in new))
    with written_whole(out / PICTURES_TAR) as partial, tarfile.open(partial, "w") as tar:
        for row in new:
            picture = store.picture_path(row["run_key"])
            if picture.is_file():
                tar.add(picture, arcname=picture.name)
    summary = {
        **about,
        "new_rows": len(new),
        "finished": report.finished,
        "terminated": report.terminated,
        "not_started": report.not_started,
    }
    write_whole(out / SUMMARY, json.dumps(summary, indent=2) + "\n")
    print(f"{len(new)} new rows, {len(report.not_started)} runs left: {out}")


def rows_to_add(path: Path) -> list[ResultRow]:
    """Every row of a file brought back, or a ValueError naming the first line that is not a
    usable row: the committed store takes a file whole or not at all, so a file cut short on the
    device or garbled on the way adds nothing, instead of its first part and a traceback."""
    rows = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        row, problem = parsed_row(line)
        if problem is None:
            problem = next(
                (f"no {field!r}" for field in IDENTITY if not isinstance(row.get(field), str)),
                None,
            )
        if problem is not None:
            raise ValueError(f"{path} line {number}: {problem}; nothing was added")
        rows.append(row)
    return rows


def add(args: argparse.Namespace) -> int:
    """Append the rows a session or a CPU grid brought back (each once, by run id) to the
    committed store, and their pictures beside them: only PNG files named by a new row's run key
    are taken, from the session's tar or a grid's picture folder. Interrupted runs are left out:
    they resume, and their finished row is the result. Pictures that cannot be read add nothing,
    rows included."""
    try:
        rows = rows_to_add(args.rows)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    target = ResultsStore(args.results_dir)
    known = {row.get("run_id") for row in target.read()}
    new, resuming = [], 0
    for row in rows:
        if row["run_id"] in known:
            continue
        known.add(row["run_id"])
        if interrupted(row):
            resuming += 1
        else:
            new.append(row)
    try:
        wanted = {f"{row['run_key']}.png" for row in new}
        pictures = dict(pictures_in(args.pictures, wanted)) if args.pictures else {}
    except (OSError, tarfile.TarError) as err:
        why = "not a tar archive" if isinstance(err, tarfile.TarError) else err.strerror or err
        print(
            f"error: --pictures {args.pictures}: {why}; allowed: a session's pictures.tar or a "
            "picture folder; nothing was added",
            file=sys.stderr,
        )
        return 1
    for row in new:
        target.append(row)
    for name, data in pictures.items():
        with written_whole(args.results_dir / PICTURES_DIR / name) as partial:
            partial.write_bytes(data)
    plural = "" if resuming == 1 else "s"
    left_out = f"; left out {resuming} interrupted run{plural} (they resume)" if resuming else ""
    print(f"{len(new)} rows added to {target.path}{left_out}")
    return 0


def pictures_in(source: Path, wanted: set[str]) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of the wanted pictures in a tar or a folder; nothing else is read, and a
    name is only ever a file name (a tar member `../x.png` is not wanted)."""
    if source.is_dir():
        for name in sorted(wanted):
            if (source / name).is_file():
                yield name, (source / name).read_bytes()
        return
    with tarfile.open(source) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name in wanted:
                yield member.name, tar.extractfile(member).read()
