"""TSGLGenerator: the TSGL encoder + cross-layer balance module + U-Net decoder (+ auxiliary edge decoder D_S).

Every Table IV variant, preset difference and size profile is a constructor argument (typed keywords only,
so LightningCLI builds it from YAML ``class_path``/``init_args``)::

    TSGLGenerator(variant="2Global(Local)->Global(Local)", preset="paper", size="small",
                  encoder_options=TSGLOptions(tau=50))

Encoder options left at ``None`` take the preset's value (see :mod:`inpaint.models.presets`).
``balance=False`` drops the cross-layer balance module (Eq. 9–12) and feeds f1…f6 straight to the U-Net decoder:
Table VII's "Ours(Basic)".
"""

from __future__ import annotations

import torch

from inpaint.models.decoders import UNetDecoder, UpBlock, Upsampling
from inpaint.models.encoders.options import TSGLOptions
from inpaint.models.encoders.tsgl import EncoderFeatures
from inpaint.models.generators.tsgl_base import PresetName, SizeName, TSGLEncoderGenerator
from inpaint.models.interface import GeneratorOutput
from inpaint.models.presets import get_balance_preset
from inpaint.models.variants import DEFAULT_VARIANT
from inpaint.nn.balance import OFFICIAL_GRID, BalanceOptions, CrossLayerBalance


class TSGLGenerator(TSGLEncoderGenerator):
    """TSGL (Liu et al.): reconstructing texture via structure under global and local side.

    Args:
        variant: Table IV / Appendix E name (``->`` arrows) or its slug.
        preset: ``paper`` (default), ``official`` or ``official_exact``; fills every encoder and balance option
            left at ``None``.
        size: width profile, ``paper`` or ``small``.
        encoder_options: the TSGL encoder options (τ, norms, depths, D_S, ...).
        balance: the cross-layer balance module (Sec. III-B, Eq. 9–12); ``False`` = Ours(Basic) of Table VII.
        balance_options: the balance module's options (stream divisors, equalisation style;
            :class:`~inpaint.nn.balance.BalanceOptions`).
        channels_last: run the convolutions in channels-last memory format (what tensor cores prefer; the GPU
            profile sets the module's ``channels_last``). Off by default: on the CPU the 256² paper-width step was
            1.2–1.4× faster in NCHW (AVX2, docs/performance.md); the small step is within noise either way.
        decoder_upsampling: ``transposed`` (the paper's 4×4/2 transposed convs, default) or ``resize`` (nearest ×2
            then a 3×3 conv: no checkerboard after a short training run; a model change, see
            :class:`~inpaint.models.decoders.UpBlock`).

    Inputs of any size are zero-padded at the bottom and right to a multiple of 64 (the 6-level pyramid's stride);
    the padded pixels are holes (mask 0), so their values never matter, and are cropped away.
    """

    size_multiple: int = 32
    host_name = "TSGLGenerator"
    recompute_blocks = (*TSGLEncoderGenerator.recompute_blocks, CrossLayerBalance, UpBlock)

    def __init__(
        self,
        variant: str = DEFAULT_VARIANT,
        preset: PresetName = "paper",
        size: SizeName = "paper",
        encoder_options: TSGLOptions = TSGLOptions(),
        balance: bool = True,
        balance_options: BalanceOptions = BalanceOptions(),
        channels_last: bool = False,
        decoder_upsampling: Upsampling = "transposed",
    ) -> None:
        super().__init__()
        self._init_encoder(variant, preset, size, encoder_options, channels_last)
        channels = self.profile.pyramid_channels
        if not isinstance(balance_options, BalanceOptions):  # a YAML / hyper-parameter mapping
            balance_options = BalanceOptions(**dict(balance_options))
        self.balance_options = balance_options.over(get_balance_preset(preset))
        self.balance = (
            CrossLayerBalance(channels, self.profile.balance_width, options=self.balance_options) if balance else None
        )
        self.decoder = UNetDecoder(channels, upsampling=decoder_upsampling)
        if self.balance is not None and self.balance_options.stream_divisors:  # stored maps fix the stride-8 grid
            self.fixed_input_size = (8 * OFFICIAL_GRID[0], 8 * OFFICIAL_GRID[1])
        if channels_last:
            self.to(memory_format=torch.channels_last)

    def decode(self, features: EncoderFeatures, known: torch.Tensor) -> GeneratorOutput:
        maps = self.balance(features.features) if self.balance is not None else features.features
        return GeneratorOutput(image=self.decoder(maps, output_size=tuple(known.shape[-2:])))

    @property
    def model_name(self) -> str:
        return "TSGLGenerator" if self.balance is not None else "TSGLGenerator(balance=False)"  # Ours(Basic)

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.balance is not None else ", balance=False")
