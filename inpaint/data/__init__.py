"""Data pipeline: priors (preprocess, smoothing), masks, image sources, the smoothing cache and
``InpaintDataModule`` (see docs/data.md). Import the submodules directly; this package imports nothing heavy."""
