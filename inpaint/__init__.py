"""inpaint: a PyTorch Lightning experiment suite for deep image inpainting (TSGL and friends).

Conventions used everywhere (see docs/conventions.md):
  * images inside the network are RGB float tensors in [-1, 1], shape B×3×H×W;
  * masks are float {0, 1} tensors, shape B×1×H×W, with **1 = known** and 0 = hole;
  * metrics are computed on the composite ``gt·M + out·(1-M)`` converted once to uint8.
"""

__version__ = "0.1.0"
