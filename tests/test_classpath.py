"""The one class-path instantiator, and how ``inpaint info`` / ``bench`` report bad generator selections."""

from __future__ import annotations

import pytest

from inpaint.classpath import ClassPathError, instantiate
from inpaint.commands import bench, info
from inpaint.errors import UserInputError
from inpaint.models.complexity import count_generator, inference_complexity
from inpaint.models.discriminators import PatchDiscriminator


def test_instantiates_inpaint_classes_with_init_args() -> None:
    module = instantiate("inpaint.models.discriminators.PatchDiscriminator", {"width": 8})
    assert isinstance(module, PatchDiscriminator)
    assert module.state_dict().keys() == PatchDiscriminator(width=8).state_dict().keys()


@pytest.mark.parametrize(
    ("class_path", "init_args", "message"),
    [
        ("torch.nn.Linear", {"in_features": 1, "out_features": 1}, "refusing to import 'torch.nn.Linear'"),
        ("inpaint.models.nothing.Here", {}, "cannot be imported"),
        ("inpaint.losses.LossConfig", {}, "not a torch.nn.Module class"),
        ("inpaint.models.discriminators.PatchDiscriminator", {"colour": 1}, "bad init args"),
    ],
    ids=["untrusted", "missing", "not-a-module", "bad-args"],
)
def test_rejections_are_user_input_errors(class_path: str, init_args: dict, message: str) -> None:
    with pytest.raises(ClassPathError, match=message) as caught:
        instantiate(class_path, init_args)
    assert isinstance(caught.value, UserInputError) and isinstance(caught.value, ValueError)


def test_any_class_when_the_caller_vouches() -> None:
    import torch

    assert isinstance(instantiate("torch.nn.Identity", allow_any_class=True), torch.nn.Identity)


def test_count_generator_is_library_code_with_ordinary_errors() -> None:
    counted = count_generator("inpaint.models.generators.tsgl.TSGLGenerator", {"size": "small"}, 64, 64)
    params, macs = inference_complexity(counted)
    assert params == counted["params"]["total"] - counted["params"]["by_part"]["aux_decoder"]
    assert macs == counted["macs"]["without_aux_decoder"] < counted["macs"]["total"]
    with pytest.raises(ClassPathError):
        count_generator("os.system", {}, 64, 64)


@pytest.mark.parametrize("command", [info, bench], ids=["info", "bench"])
@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--resolution", "big"], "--resolution must be H or HxW"), (["--set", "tau"], "--set expects KEY=VALUE")],
    ids=["resolution", "set"],
)
def test_commands_turn_user_errors_into_exit_code_2(command, argv: list[str], message: str, capsys) -> None:
    assert command.main(argv + ["--no-progress"] * (command is bench)) == 2
    assert message in capsys.readouterr().err
