import re

import pytest
import torch

from anomaly_bench.engine.runtime import (
    COMMIT_VARIABLE,
    git_commit,
    installed_version,
    launcher_jobs,
    thread_budget,
)

JOBLIB = "hydra_plugins.hydra_joblib_launcher.joblib_launcher.JoblibLauncher"
SUBMITIT_LOCAL = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.LocalLauncher"
SUBMITIT_SLURM = "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
BASIC = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"


@pytest.mark.parametrize(
    ("requested", "launcher", "cores", "threads"),
    [
        (None, {"_target_": JOBLIB, "n_jobs": 2}, 2, 1),  # two jobs share two cores
        (None, {"_target_": JOBLIB, "n_jobs": 3}, 16, 5),  # shared_gpu's default on 16 cores
        (None, {"_target_": JOBLIB, "n_jobs": -1}, 8, 1),  # joblib's -1: a job per core
        (None, {"_target_": JOBLIB, "n_jobs": 4}, 2, 1),  # more jobs than cores: still one
        (None, {"_target_": SUBMITIT_LOCAL, "cpus_per_task": 1}, 2, 1),  # local_cpu
        (None, {"_target_": SUBMITIT_LOCAL, "cpus_per_task": 8}, 64, 8),  # slurm_gpu's request
        (None, {"_target_": BASIC}, 2, None),  # one job at a time: torch's default
        (None, None, 2, None),  # outside a Hydra app
        (3, {"_target_": JOBLIB, "n_jobs": 2}, 2, 3),  # cpu_threads wins
    ],
)
def test_each_job_gets_its_share_of_the_cores(requested, launcher, cores, threads):
    assert thread_budget(requested, launcher, cores) == threads


@pytest.mark.parametrize(
    ("launcher", "cores", "jobs"),
    [
        ({"_target_": JOBLIB, "n_jobs": 14}, 16, 14),  # the shared_gpu grids
        ({"_target_": JOBLIB, "n_jobs": -1}, 8, 8),
        ({"_target_": SUBMITIT_LOCAL, "cpus_per_task": 1}, 2, None),  # the whole sweep at once
        ({"_target_": SUBMITIT_SLURM, "cpus_per_task": 8}, 64, 1),  # an allocation each
        ({"_target_": BASIC}, 2, 1),
        (None, 2, 1),
    ],
)
def test_a_row_records_how_many_runs_its_launcher_starts_at_once(launcher, cores, jobs):
    assert launcher_jobs(launcher, cores) == jobs


@pytest.mark.parametrize("requested", [0, -2, 1.5])
def test_a_thread_count_that_is_not_a_positive_integer_is_refused(requested):
    with pytest.raises(ValueError, match=f"cpu_threads={requested!r} is not allowed"):
        thread_budget(requested, None, 2)


def test_a_checkout_reports_its_head_commit(monkeypatch):
    monkeypatch.setenv(COMMIT_VARIABLE, "not-this")
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", git_commit())


@pytest.mark.parametrize("named", ["0123abc", None])
def test_a_copy_without_git_reports_the_commit_it_was_told_or_none(tmp_path, monkeypatch, named):
    if named is None:
        monkeypatch.delenv(COMMIT_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(COMMIT_VARIABLE, named)
    assert git_commit(tmp_path) == named


def test_a_missing_package_is_recorded_not_raised():
    assert torch.__version__.startswith(installed_version("torch"))
    assert installed_version("no-such-package-anomaly-bench") == "not installed"
