"""Stepping the generator's optimiser inside backward (``model.step_in_backward``): the same weights and Adam state
as the plain step, bit for bit, on TSGL and through Lightning; every update sees one gradient and frees it; other
backwards leave the weights alone; the settings it cannot run with are refused."""

from __future__ import annotations

import pytest
import torch
from _tiny_models import TinyDataModule, TinyDiscriminator, TinyGenerator, tiny_batch
from lightning.pytorch import Trainer

from inpaint.errors import UserInputError
from inpaint.lit import gan_step
from inpaint.lit.module import InpaintingGAN
from inpaint.lit.step_bench import build_gan
from inpaint.lit.step_in_backward import StepInBackward, refusal

TSGL = "inpaint.models.generators.tsgl.TSGLGenerator"


def test_tsgl_steps_in_backward_give_the_plain_weights_bit_for_bit() -> None:
    results = {}
    for in_backward in (False, True):
        torch.manual_seed(0)
        model = build_gan(TSGL, {"size": "small"}, step_in_backward=in_backward)
        model.generator.train()
        batch = tiny_batch(2, 64)
        optimizers = model.configure_optimizers()
        opt_g = optimizers[0]
        hooks = gan_step.plain_hooks(opt_g, optimizers[1], None, model.generator_backward)
        for _ in range(2):  # the second step starts from moments the first one left
            gan_step.gan_training_step(model.generator, model.discriminator, opt_g, optimizers[1], model.losses,
                                       batch, hooks)
        results[in_backward] = (model, opt_g)
    (plain, opt_plain), (fused, opt_fused) = results[False], results[True]
    assert fused._generator_updates is not None
    trained = [p for p in fused.generator.parameters() if opt_fused.state.get(p)]
    assert len(trained) > 50 and fused._generator_updates.steps_in_backward == 2 * len(trained)
    for (name, a), (_, b) in zip(plain.state_dict().items(), fused.state_dict().items()):
        assert torch.equal(a, b), name
    for a, b in zip(plain.generator.parameters(), fused.generator.parameters()):
        sa, sb = opt_plain.state[a], opt_fused.state[b]
        assert sa.keys() == sb.keys()
        for key in sa:
            assert torch.equal(sa[key], sb[key]), key
        assert b.grad is None  # freed inside backward


def test_each_update_sees_exactly_one_gradient_and_frees_it() -> None:
    torch.manual_seed(0)
    generator = TinyGenerator()
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-3, fused=True)
    updates = StepInBackward(optimizer)
    seen: list[int] = []
    plain_step = optimizer.step

    def counting_step(*args, **kwargs):
        seen.append(sum(p.grad is not None for p in generator.parameters()))
        return plain_step(*args, **kwargs)

    optimizer.step = counting_step
    batch = tiny_batch(2, 16)
    out = generator(batch["image"], batch["mask"], batch["edge"])
    optimizer.zero_grad(set_to_none=True)
    with updates.armed():
        (out.image.square().mean() + out.edge.mean()).backward()
    assert seen == [1] * len(list(generator.parameters()))
    assert all(p.grad is None for p in generator.parameters())


def test_a_backward_outside_the_armed_block_changes_no_weight() -> None:
    generator = TinyGenerator()
    optimizer = torch.optim.Adam(generator.parameters(), lr=1e-3, fused=True)
    updates = StepInBackward(optimizer)
    before = [p.detach().clone() for p in generator.parameters()]
    batch = tiny_batch(2, 16)
    generator(batch["image"], batch["mask"]).image.mean().backward()
    assert all(torch.equal(a, p) for a, p in zip(before, generator.parameters()))
    assert all(p.grad is not None for p in generator.to_image.parameters())  # an ordinary backward
    assert updates.steps_in_backward == 0
    updates.remove()
    with updates.armed():
        generator(batch["image"], batch["mask"]).image.mean().backward()
    assert all(torch.equal(a, p) for a, p in zip(before, generator.parameters()))  # hooks removed


def _fit(tmp_path, step_in_backward: bool) -> InpaintingGAN:
    torch.manual_seed(0)
    model = InpaintingGAN(TinyGenerator(), TinyDiscriminator(), step_in_backward=step_in_backward)
    trainer = Trainer(accelerator="cpu", devices=1, max_steps=3, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path),
                      limit_val_batches=0, num_sanity_val_steps=0)
    trainer.fit(model, datamodule=TinyDataModule())
    assert trainer.global_step == 3  # the (now empty) optimiser step still counts the iteration
    return model


def test_a_lightning_fit_ends_with_the_plain_fits_weights(tmp_path) -> None:
    plain = _fit(tmp_path / "plain", False)
    fused = _fit(tmp_path / "fused", True)
    assert fused._generator_updates is not None and fused._generator_updates.steps_in_backward > 0
    for (name, a), (_, b) in zip(plain.state_dict().items(), fused.state_dict().items()):
        assert torch.equal(a, b), name


def test_settings_it_cannot_run_with_are_refused() -> None:
    with pytest.raises(UserInputError, match="cannot be combined with model.gradient_clip_val"):
        InpaintingGAN(TinyGenerator(), TinyDiscriminator(), gradient_clip_val=1.0, step_in_backward=True)
    assert "gradient scaler" in refusal(None, "16-mixed")
    assert "one process only (this run has 2)" in refusal(None, "32-true", world_size=2)
    assert refusal(None, "bf16-mixed") is None and refusal(None, "32-true") is None
