"""Measurements for the tests of `in_fresh_processes`, in a module that imports nothing heavy,
so that each fresh process they start is up in a fraction of a second."""

from __future__ import annotations

import multiprocessing
import os
import time


def never_ends(case: object, settings: object) -> dict:
    """A measurement that hangs, as one whose CUDA context died without a word would."""
    time.sleep(600)
    return {}


def dies(case: object, settings: object) -> dict:
    """A measurement whose process ends without a word."""
    os._exit(3)


def may_have_children(case: object, settings: object) -> dict:
    """torch.compile's workers and DataLoader workers are processes a case starts."""
    return {"daemon": multiprocessing.current_process().daemon}
