"""``MetricOptions``: how the protocol scores a set of images, as one value shared by every entry point.

The training path (``inpaint test``'s :class:`~inpaint.lit.evaluation.EvaluationWriter`), the metric itself
(:class:`~inpaint.metrics.collection.InpaintingMetrics`) and ``inpaint evaluate`` all read these fields, so a
default is set once, here.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from inpaint.data.buckets import ClosedSide, resolve_schemes
from inpaint.errors import UserInputError
from inpaint.metrics.image_quality import SSIM_WINDOWS, SSIMWindow
from inpaint.metrics.lpips import LPIPSNet

#: The schemes every report has (paper, Table IV, NVIDIA, LaMa kinds), in table order. Not ``kind``: one row per
#: generator kind only means something for a kind set of several kinds, which the evaluation scores with it; not
#: ``msfef``: seed 004's study asks for it (``run.evaluation.schemes``).
DEFAULT_SCHEMES: tuple[str, ...] = ("paper", "table4", "nvidia", "lama")


@dataclass(frozen=True)
class MetricOptions:
    """What is scored and how.

    Args:
        schemes: bucket schemes to report besides the overall row (see :mod:`inpaint.data.buckets`).
        closed: which side of each ratio interval is closed (``"right"``: (low, high], NVIDIA convention).
        ssim_window: ``"gaussian11"`` (11×11, σ 1.5) or ``"uniform7"``.
        lpips_net: ``"alex"``, ``"vgg"`` or None (off).
        fid: compute FID (needs the Inception weights offline, see :mod:`inpaint.metrics.inception`).
        raw: also score the raw generator output (the secondary column).
        raw_fid: include FID in the raw column (one more Inception pass per image, a third of the FID cost).
    """

    schemes: tuple[str, ...] = DEFAULT_SCHEMES
    closed: ClosedSide = "right"
    ssim_window: SSIMWindow = "gaussian11"
    lpips_net: LPIPSNet | None = "alex"
    fid: bool = True
    raw: bool = True
    raw_fid: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.schemes, str):
            raise UserInputError(f"schemes must be a list such as [paper, lama], got the string {self.schemes!r}")
        object.__setattr__(self, "schemes", tuple(self.schemes))  # a list from YAML; kept hashable
        resolve_schemes(self.schemes)  # unknown names → UserInputError
        if self.ssim_window not in SSIM_WINDOWS:
            raise UserInputError(f"ssim_window must be one of {sorted(SSIM_WINDOWS)}, got {self.ssim_window!r}")
        if self.closed not in typing.get_args(ClosedSide):
            raise UserInputError(f"closed must be 'right' or 'left', got {self.closed!r}")
        if self.lpips_net is not None and self.lpips_net not in typing.get_args(LPIPSNet):
            raise UserInputError(f"lpips_net must be one of {list(typing.get_args(LPIPSNet))} or null, "
                                 f"got {self.lpips_net!r}")  # fmt: skip

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def updated(self, changes: Mapping[str, Any]):  # -> same type as self
        """A copy with ``changes`` applied (the names must be fields of this options class)."""
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no option(s) {unknown}")
        return replace(self, **changes) if changes else self


def split_options(cls: type[MetricOptions], kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``kwargs`` split into (fields of ``cls``, everything else)."""
    names = set(cls.field_names())
    return {k: v for k, v in kwargs.items() if k in names}, {k: v for k, v in kwargs.items() if k not in names}


__all__ = ["DEFAULT_SCHEMES", "MetricOptions", "split_options"]
