"""All eight generators of the encoder-swap study (paper Tables II, III, VII) against the generator contract.

TSGL, PEN-Net, Ours(PENNet), HiFill, Ours(HiFill), LaMa, Ours(LaMa), Ours(Basic) — each built in the ``small``
profile and trained two Adam steps at 64².
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
import torch

from inpaint.conventions import composite
from inpaint.models.generators.hifill import HiFillGenerator
from inpaint.models.generators.lama import LaMaGenerator
from inpaint.models.generators.ours_lama import OursLaMaGenerator
from inpaint.models.generators.pennet import PENNetGenerator
from inpaint.models.generators.swaps import OursHiFillGenerator, OursPENNetGenerator
from inpaint.models.generators.tsgl import TSGLGenerator
from inpaint.models.interface import GeneratorOutput, InpaintGenerator

GENERATORS: dict[str, Callable[..., InpaintGenerator]] = {
    "tsgl": TSGLGenerator,
    "pennet": PENNetGenerator,
    "ours_pennet": OursPENNetGenerator,
    "hifill": HiFillGenerator,
    "ours_hifill": OursHiFillGenerator,
    "lama": LaMaGenerator,
    "ours_lama": OursLaMaGenerator,
    "ours_basic": functools.partial(TSGLGenerator, balance=False),
}
#: generators that carry the TSGL structure encoder, hence D_S and an edge prediction
WITH_STRUCTURE = {"tsgl", "ours_pennet", "ours_hifill", "ours_lama", "ours_basic"}
SIZE = 64


def _batch(batch: int = 2) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    image = torch.rand(batch, 3, SIZE, SIZE, generator=generator) * 2 - 1
    known = torch.ones(batch, 1, SIZE, SIZE)
    known[0, :, 10:30, 12:40] = 0.0
    known[-1, :, 36:60, 4:28] = 0.0
    edge = (torch.rand(batch, 1, SIZE, SIZE, generator=generator) > 0.8).float()
    gray = torch.rand(batch, 1, SIZE, SIZE, generator=generator)
    smooth = torch.rand(batch, 3, SIZE, SIZE, generator=generator) * 2 - 1
    return {"image": image, "mask": known, "edge": edge, "gray": gray, "smooth": smooth}


@functools.cache
def small_generator(name: str) -> InpaintGenerator:
    """One small instance per generator, shared by the tests below (the CPU's first-call warm-up is paid once)."""
    torch.manual_seed(0)
    return GENERATORS[name](size="small")


@pytest.fixture(params=list(GENERATORS))
def built(request: pytest.FixtureRequest) -> tuple[str, InpaintGenerator]:
    return request.param, small_generator(request.param)


def test_builds_trains_and_keeps_known_pixels(built: tuple[str, InpaintGenerator]) -> None:
    name, generator = built
    generator.train()
    batch = _batch()
    image, known = batch["image"], batch["mask"]
    optimiser = torch.optim.Adam(generator.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in generator.parameters()]
    for _ in range(2):
        out = generator(**batch)
        assert isinstance(out, GeneratorOutput)
        assert out.image.shape == image.shape
        assert torch.isfinite(out.image).all() and out.image.min() >= -1.0 and out.image.max() <= 1.0
        assert (out.edge is not None) == (name in WITH_STRUCTURE), name
        loss = (out.image - image).abs().mean() + sum(x.abs().mean() for x in out.extras.values() if x.dim() == 4)
        if out.edge is not None:
            assert out.edge.shape == known.shape and ((out.edge >= 0) & (out.edge <= 1)).all()
            loss = loss + (out.edge - batch["edge"]).abs().mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        grads = [p.grad for p in generator.parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads), name
        optimiser.step()
    changed = sum(not torch.equal(b, p) for b, p in zip(before, generator.parameters()))
    assert changed > 0.9 * len(before), f"{name}: only {changed}/{len(before)} parameter tensors were updated"
    merged = composite(image, out.image.detach(), known)
    keep = known.bool().expand_as(image)
    assert torch.equal(merged[keep], image[keep])  # bit-exact known pixels
    assert not torch.equal(merged[~keep], image[~keep])  # the hole really is filled by the generator


def test_hole_pixels_of_any_input_never_change_the_output(built: tuple[str, InpaintGenerator]) -> None:
    name, generator = built
    generator.eval()
    batch = _batch()
    hole = batch["mask"] < 0.5
    noisy = dict(batch)
    for key in ("image", "edge", "gray", "smooth"):
        noise = torch.randn_like(batch[key]) * 3.0
        noisy[key] = torch.where(hole.expand_as(batch[key]), noise, batch[key])
    with torch.no_grad():
        clean_out, noisy_out = generator(**batch), generator(**noisy)
    assert torch.equal(clean_out.image, noisy_out.image), name
    if clean_out.edge is not None:
        assert torch.equal(clean_out.edge, noisy_out.edge), name


def test_swaps_pad_inputs_that_are_not_multiples_of_64() -> None:
    generator = small_generator("ours_basic").eval()
    batch = {k: v[..., :32, :] for k, v in _batch().items()}  # 32×64: padded to 64×64 inside, cropped back
    with torch.no_grad():
        out = generator(**batch)
    assert out.image.shape == batch["image"].shape and out.edge is not None and out.edge.shape == batch["mask"].shape


def test_ours_pennet_side_outputs_follow_the_input_size() -> None:
    generator = small_generator("ours_pennet").eval()
    with torch.no_grad():
        out = generator(**_batch(1))
    sides = [tuple(out.extras[f"pyramid_{i}"].shape[-2:]) for i in range(5)]
    assert sides == [(32, 32), (16, 16), (8, 8), (4, 4), (2, 2)]


def test_baseline_variant_builds_no_structure_stream() -> None:
    for build in (GENERATORS["ours_basic"], OursLaMaGenerator):
        generator = build(size="small", variant="Baseline")
        assert generator.aux_decoder is None and "edge" not in generator.priors
        with torch.no_grad():
            out = generator.eval()(**_batch(1))
        assert out.edge is None


def test_bad_inputs_raise_clear_errors() -> None:
    generator = OursHiFillGenerator(size="small")
    batch = _batch(1)
    with pytest.raises(ValueError, match="divisible by 32"):
        generator(**{k: v[..., :48, :48] for k, v in batch.items()})
    with pytest.raises(ValueError, match="mask must be"):
        generator(**{**batch, "mask": batch["mask"][:, :, :32]})
    with pytest.raises(ValueError, match="host_widths"):
        OursPENNetGenerator(size="small", host_widths="wide")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs 'edge' and 'gray'"):
        OursLaMaGenerator(size="small")(**{**batch, "edge": None})
