"""Every Table VIII structure prior through a small TSGL at 64²: X_S = (prior⊙M, M) with C + 1 channels, D_S predicting
the prior (the edge map for canny_gray), one training step forward + backward, known pixels exact, hole pixels of the
prior unseen; a model and data built for different priors refuse each other."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inpaint.conventions import STRUCTURE_PRIOR_CHANNELS, STRUCTURE_PRIORS, composite, structure_target_channels
from inpaint.data.datasets import Crop, PriorConfig, build_sample
from inpaint.data.synthetic import synthetic_image
from inpaint.errors import UserInputError
from inpaint.lit import gan_step
from inpaint.losses import LossConfig
from inpaint.models.discriminators import PatchDiscriminator
from inpaint.models.encoders.options import TSGLOptions
from inpaint.models.generators.ours_lama import OursLaMaGenerator
from inpaint.models.generators.tsgl import TSGLGenerator

SIZE = 64


def _batch(prior: str, count: int = 2) -> dict:
    samples = []
    for i in range(count):
        rng = np.random.default_rng(10 + i)
        mask = np.ones((SIZE, SIZE), np.float32)
        mask[16:40, 20 + 4 * i : 48] = 0.0
        crop = Crop(synthetic_image(rng, SIZE, SIZE), f"s{i}", labels=rng.integers(0, 150, (SIZE, SIZE)))
        samples.append(build_sample(crop, mask, PriorConfig(smoothing="none", structure_prior=prior), "box"))
    return torch.utils.data.default_collate(samples)


def _generator(prior: str) -> TSGLGenerator:
    torch.manual_seed(0)
    options = TSGLOptions(structure_prior=None if prior == "canny_gray" else prior)
    return TSGLGenerator(size="small", encoder_options=options, channels_last=False)


@pytest.mark.parametrize("prior", STRUCTURE_PRIORS)
def test_each_prior_trains_a_small_tsgl_step(prior):
    batch = _batch(prior)
    generator = _generator(prior)
    assert generator.structure_prior == prior
    assert generator.encoder.structure.convs[0].conv.in_channels == STRUCTURE_PRIOR_CHANNELS[prior] + 1
    assert generator.aux_decoder.head.out_channels == structure_target_channels(prior)
    assert generator.priors == (("edge", "gray", "smooth") if prior == "canny_gray" else ("structure", "smooth"))
    discriminator = PatchDiscriminator(width=16)
    opt_g, opt_d = torch.optim.Adam(generator.parameters()), torch.optim.Adam(discriminator.parameters())
    before = generator.encoder.structure.convs[0].conv.weight.detach().clone()
    step = gan_step.gan_training_step(generator, discriminator, opt_g, opt_d, LossConfig(), batch,
                                      gan_step.plain_hooks(opt_g, opt_d))
    assert all(torch.isfinite(v) for v in step.generator_terms.values())
    assert step.generator_terms["aux"] > 0  # D_S is trained on the prior
    assert not torch.equal(before, generator.encoder.structure.convs[0].conv.weight)  # the structure branch learns

    generator.eval()
    with torch.no_grad():
        out = generator(**gan_step.generator_inputs(batch))
        channels = structure_target_channels(prior)
        assert out.edge is not None and out.edge.shape == (2, channels, SIZE, SIZE)
        known = batch["mask"] > 0.5
        filled = composite(batch["image"], out.image, batch["mask"])
        assert torch.equal(filled[known.expand_as(filled)], batch["image"][known.expand_as(filled)])
        # the prior's hole pixels never reach the output
        key = "structure" if prior != "canny_gray" else "gray"
        poked = dict(batch)
        poked[key] = torch.where(known, batch[key], torch.rand_like(batch[key]))
        assert torch.equal(generator(**gan_step.generator_inputs(poked)).image, out.image)


def test_model_and_data_with_different_priors_refuse_each_other():
    sobel = _batch("sobel_x", 1)
    default = _batch("canny_gray", 1)
    with pytest.raises(UserInputError, match="data's structure_prior is 'sobel_x'.*built for 'canny_gray'"):
        gan_step.check_structure_prior(_generator("canny_gray"), sobel)
    with pytest.raises(UserInputError, match="data's structure_prior is 'canny_gray'.*built for 'lowres_rgb'"):
        gan_step.check_structure_prior(_generator("lowres_rgb"), default)
    with pytest.raises(UserInputError, match="built for structure_prior='lowres_rgb' but the batch has no"):
        _generator("lowres_rgb")(**gan_step.generator_inputs(default))
    with pytest.raises(UserInputError, match="built for canny_gray"):
        both = {**gan_step.generator_inputs(sobel), "edge": default["edge"], "gray": default["gray"]}
        _generator("canny_gray")(**both)
    gan_step.check_structure_prior(_generator("sobel_x"), sobel)  # the same prior passes


def test_options_check_the_prior_name_and_ours_lama_refuses_it():
    with pytest.raises(UserInputError, match="unknown structure_prior 'edges'"):
        TSGLOptions(structure_prior="edges")  # type: ignore[arg-type]
    with torch.device("meta"), pytest.raises(UserInputError, match="\\['structure_prior'\\] do not apply"):
        OursLaMaGenerator(size="small", encoder_options=TSGLOptions(structure_prior="sobel_y"))


def test_predictor_computes_the_models_prior():
    from inpaint.inference import Predictor

    image = synthetic_image(np.random.default_rng(5), SIZE, SIZE)
    known = np.ones((SIZE, SIZE), np.float32)
    known[20:40, 20:40] = 0.0
    filled = Predictor(_generator("sobel_y"), smoothing="none")(image, known)
    assert filled.shape == image.shape and np.array_equal(filled[known > 0.5], image[known > 0.5])
    with pytest.raises(UserInputError, match="needs segmentation maps"):
        Predictor(_generator("segmentation"), smoothing="none")(image, known)


def test_complexity_counts_a_model_built_for_another_prior():
    from inpaint.models.complexity import count_generator, example_inputs

    info = count_generator("inpaint.models.generators.tsgl.TSGLGenerator",
                           {"size": "small", "encoder_options": {"structure_prior": "lowres_rgb"}}, 64, 64)
    default = count_generator("inpaint.models.generators.tsgl.TSGLGenerator", {"size": "small"}, 64, 64)
    assert info["params"]["total"] > default["params"]["total"]  # one more input channel, two more D_S outputs
    assert example_inputs(2, 32, 32, structure_prior="sobel_x")["structure"].shape == (2, 3, 32, 32)
    assert "structure" not in example_inputs(2, 32, 32)


@pytest.mark.parametrize("prior", STRUCTURE_PRIORS)
def test_prior_overlays_set_data_and_model_alike(prior):
    from pathlib import Path

    from inpaint.lit.config_sections import datamodule_from_configs, generator_from_configs

    root = Path(__file__).resolve().parents[1]
    files = [str(root / f) for f in ("experiments/data/embedded.yaml", "experiments/model/tsgl.yaml",
                                     f"experiments/priors/{prior}.yaml")]
    if prior == "segmentation":  # the embedded photos have no maps: the one-line refusal a study shows as n/a
        with pytest.raises((UserInputError, ValueError), match="needs segmentation maps"):  # ValueError: the parser's
            datamodule_from_configs(files)
    else:
        assert datamodule_from_configs(files).hparams.structure_prior == prior
    with torch.device("meta"):
        assert generator_from_configs(files).structure_prior == prior
