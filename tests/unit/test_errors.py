"""A failed run's one console line."""

import pytest
from omegaconf import OmegaConf
from omegaconf.errors import MissingMandatoryValue

from anomaly_bench.engine.errors import exit_with_one_line


def test_a_setting_left_to_the_user_is_named_with_how_to_give_it(capsys):
    """`data=folder` without `data.root`: OmegaConf's `Missing mandatory value: data.root
    full_key: data.root object_type=dict` becomes what to type."""
    config = OmegaConf.create({"data": {"root": "???"}})
    with pytest.raises(MissingMandatoryValue) as caught:
        _ = config.data.root
    with pytest.raises(SystemExit) as stopped:
        exit_with_one_line(caught.value)
    assert stopped.value.code == 1
    said = capsys.readouterr().err
    assert said.startswith(
        "error: MissingMandatoryValue: data.root has no value, and the run needs one: add "
        "data.root=... to the command"
    )


def test_any_other_error_keeps_its_message_on_one_line(capsys):
    with pytest.raises(SystemExit):
        exit_with_one_line(ValueError("normal_class=12 is not allowed;\n  allowed: 0, 1"))
    assert capsys.readouterr().err.startswith(
        "error: ValueError: normal_class=12 is not allowed; allowed: 0, 1 ("
    )
