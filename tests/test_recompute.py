"""Activation recomputation: the same outputs, gradients, batch-norm statistics and spectral-norm vectors as the plain
forward/backward — on a hand-made block holding both stateful layers and on TSGL — with fewer tensors kept for
backward; eval and no-grad forwards untouched; a generator without heavy blocks refused."""

from __future__ import annotations

import copy
import functools

import pytest
import torch
from _tiny_models import TinyDiscriminator, TinyGenerator, tiny_batch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from inpaint.errors import UserInputError
from inpaint.lit import gan_step
from inpaint.lit.module import InpaintingGAN
from inpaint.models.generators.tsgl import TSGLGenerator
from inpaint.nn.recompute import enable_recompute, recompute_blocks


class Block(nn.Module):
    """conv → batch norm → spectral-norm conv → LeakyReLU: both layers that change state in a training forward."""

    def __init__(self, channels: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm = nn.BatchNorm2d(channels)
        self.sn = spectral_norm(nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.leaky_relu(self.sn(self.norm(self.conv(x))), 0.2)


def _saved_bytes(fn) -> tuple[int, torch.Tensor]:
    """Bytes of the tensors autograd keeps for backward while ``fn`` runs."""
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return total, out


def test_a_recomputed_block_matches_the_plain_one_exactly() -> None:
    torch.manual_seed(0)
    plain = nn.Sequential(Block(), Block()).train()
    replayed = copy.deepcopy(plain)
    assert recompute_blocks(replayed, (Block,)) == ["0", "1"]
    x = torch.randn(2, 4, 16, 16)
    for _ in range(2):  # twice: the second forward starts from the state the first one left
        kept_plain, out_plain = _saved_bytes(lambda: plain(x))
        kept_replayed, out_replayed = _saved_bytes(lambda: replayed(x))
        assert torch.equal(out_plain, out_replayed)
        assert kept_replayed < kept_plain / 3  # only the blocks' inputs are kept
        out_plain.square().sum().backward()
        out_replayed.square().sum().backward()
    for (name, a), (_, b) in zip(plain.named_parameters(), replayed.named_parameters()):
        assert torch.equal(a.grad, b.grad), name
    for (name, a), (_, b) in zip(plain.named_buffers(), replayed.named_buffers()):
        assert torch.equal(a, b), name  # running stats updated once per step, power iteration run once per forward
    assert int(replayed[0].norm.num_batches_tracked) == 2


def test_eval_and_no_grad_forwards_are_untouched() -> None:
    block = Block()
    recompute_blocks(block, (Block,))
    x = torch.randn(1, 4, 8, 8)
    block.eval()
    kept, _ = _saved_bytes(lambda: block(x.requires_grad_()))
    assert kept > 0  # eval: a plain forward (nothing checkpointed)
    with torch.no_grad():
        block.train()(x)


class Pair(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first, self.second = Block(), Block()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.first(x))


def test_only_the_outermost_blocks_are_wrapped_and_only_once() -> None:
    model = nn.Sequential(Pair(), Block())
    assert recompute_blocks(model, (Pair, Block)) == ["0", "1"]  # 0.first / 0.second replay inside their pair
    assert not hasattr(model[0].first, "_recomputes")
    assert recompute_blocks(model, (Pair, Block)) == ["0", "1"]
    assert not isinstance(model[0].forward.args[1], functools.partial)  # the original forward, not wrapped twice


def _tsgl_grads(recompute: bool) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    torch.manual_seed(0)
    generator = TSGLGenerator(size="small").train()
    if recompute:
        assert len(enable_recompute(generator)) > 10
    batch = tiny_batch(2, 64)
    out = generator(**gan_step.generator_inputs(batch))
    (out.image.square().mean() + out.edge.mean()).backward()
    return {n: p.grad.clone() for n, p in generator.named_parameters() if p.grad is not None}, out.image.detach()


def test_tsgl_gradients_equal_the_plain_backward() -> None:
    plain, image_plain = _tsgl_grads(False)
    replayed, image_replayed = _tsgl_grads(True)
    assert torch.equal(image_plain, image_replayed)
    assert plain.keys() == replayed.keys() and len(plain) > 50
    for name in plain:
        torch.testing.assert_close(replayed[name], plain[name], rtol=0, atol=0, msg=name)


def test_a_generator_without_heavy_blocks_is_refused() -> None:
    with pytest.raises(UserInputError, match="TinyGenerator names no blocks to recompute"):
        InpaintingGAN(TinyGenerator(), TinyDiscriminator(), recompute_activations=True)
