"""The decoder's upsampling option: the paper's 4×4/2 transposed conv or resize-then-conv (no checkerboard)."""

from __future__ import annotations

import pytest
import torch

from inpaint.conventions import composite
from inpaint.models.decoders import UNetDecoder, UpBlock
from inpaint.models.generators.tsgl import TSGLGenerator


def _interior(y: torch.Tensor) -> torch.Tensor:
    return y[..., 2:-2, 2:-2]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_resize_conv_turns_a_flat_map_into_a_flat_map_and_the_transposed_conv_does_not(seed: int) -> None:
    """The checkerboard mechanism by hand: on a constant input every interior output pixel of resize-then-conv sums
    the same 3×3 taps, while a 4×4/2 transposed conv gives each of the 4 output phases its own 2×2 subset of taps."""
    torch.manual_seed(seed)
    x = torch.full((1, 6, 8, 8), 0.7)
    resize, transposed = UpBlock(6, 4, last=True, upsampling="resize"), UpBlock(6, 4, last=True)
    y_resize, y_transposed = resize(x, (16, 16)), transposed(x, (16, 16))
    assert y_resize.shape == y_transposed.shape == (1, 4, 16, 16)
    flat = _interior(y_resize)
    assert torch.allclose(flat, flat[..., :1, :1].expand_as(flat), atol=1e-6)
    phases = _interior(y_transposed)
    per_phase = [phases[..., i::2, j::2] for i in (0, 1) for j in (0, 1)]
    for p in per_phase:  # each phase is flat on its own ...
        assert torch.allclose(p, p[..., :1, :1].expand_as(p), atol=1e-6)
    spread = torch.stack([p[..., 0, 0] for p in per_phase]).std(dim=0)
    assert bool((spread > 1e-3).all())  # ... but the four phases differ: a period-2 pattern


def test_resize_decoder_has_9_16_of_the_up_weights_and_keeps_the_contract() -> None:
    channels = (8, 16, 24, 32, 40, 48)
    weights = {up: sum(b.up.weight.numel() for b in UNetDecoder(channels, upsampling=up).blocks)
               for up in ("transposed", "resize")}
    assert weights["resize"] * 16 == weights["transposed"] * 9
    with pytest.raises(ValueError, match="upsampling"):
        UpBlock(4, 4, upsampling="bilinear")  # type: ignore[arg-type]
    torch.manual_seed(0)
    generator = TSGLGenerator(variant="Baseline", size="small", decoder_upsampling="resize").eval()
    gen = torch.Generator().manual_seed(3)
    image = torch.rand(1, 3, 64, 64, generator=gen) * 2 - 1
    mask = torch.ones(1, 1, 64, 64)
    mask[..., 16:40, 8:48] = 0.0
    inputs = {"image": image, "mask": mask, "edge": torch.zeros(1, 1, 64, 64), "gray": image.mean(1, keepdim=True),
              "smooth": image}
    with torch.no_grad():
        out = generator(**inputs).image
        noisy = generator(**{**inputs, "image": torch.where(mask.bool(), image, torch.randn_like(image) * 5)}).image
    assert out.shape == image.shape and torch.equal(out, noisy)  # hole pixels still never reach the output
    known = mask.expand_as(out).bool()
    assert torch.equal(composite(image, out, mask)[known], image[known])
    default = TSGLGenerator(variant="Baseline", size="small")
    assert all(b.upsampling == "transposed" for b in default.decoder.blocks)  # the paper's decoder by default
