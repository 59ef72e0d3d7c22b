"""The one-class protocols by name, and which class a run is about under each.

Torch-free, at the bottom of the house: the data module builds the splits from these names, the
store names runs by them and the report places cells by them, so all three agree on what "class 3"
means: the normal class under `paper` and `standard`, the anomalous class under `leave_one_out`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LEAVE_ONE_OUT = "leave_one_out"
# paper (the Mem_GANomaly paper): one class normal, tested on the training split's other classes
# plus the test split; standard (Deep SVDD): the same, tested on the test split only;
# leave_one_out (the GANomaly code's `--abnormal_class`): one class anomalous, the nine others
# normal.
PROTOCOLS = ("paper", "standard", LEAVE_ONE_OUT)


def class_key(protocol: str) -> str:
    """The data setting that names the run's class under `protocol`."""
    return "anomalous_class" if protocol == LEAVE_ONE_OUT else "normal_class"


def default_normal_class(protocol: str) -> int | None:
    """`${default_normal_class:${data.protocol}}`: class 0 is normal unless one class is the
    anomaly, where no single class is normal and setting one is refused."""
    return None if protocol == LEAVE_ONE_OUT else 0


def class_tag(protocol: str, normal_class: int | None, anomalous_class: int | None) -> str:
    """How run keys and output folders name the class: `class3` (normal) or `anomalous3`."""
    if protocol == LEAVE_ONE_OUT:
        return f"anomalous{anomalous_class}"
    return f"class{normal_class}"


def class_heading(protocol: str) -> str:
    """What a table's class column and a log line call the run's class."""
    return "anomalous class" if protocol == LEAVE_ONE_OUT else "class"


def class_words(row: Mapping[str, Any]) -> str:
    """The run's class in a log line: `class 3`, or `anomalous class 3`."""
    return f"{class_heading(str(row.get('protocol')))} {row_class(row)}"


def row_class(row: Mapping[str, Any]) -> Any:
    """The class a result row is about: the table line its cell sits on."""
    return row.get(class_key(str(row.get("protocol"))))
