"""What happens inside the encoder: the operators behind TSGL's feature figures (paper Figs. 1, 3, 7–12, 16–17, 20–21;
seeds-summary §4.1 T4–T18), each a function on feature tensors B×C×H×W, its formula in its docstring.

* :mod:`~inpaint.analysis.heatmap` — channel-mean heat maps (Figs. 1, 3, 7);
* :mod:`~inpaint.analysis.divergence` — KL between the channel distributions of two layers (Figs. 3, 8–10);
* :mod:`~inpaint.analysis.spectrum` — high-pass "global structure" of a map and its centred log-magnitude spectrogram
  (Figs. 8–10, 16);
* :mod:`~inpaint.analysis.entropy` — per-pixel entropy over channels (Figs. 11, 17);
* :mod:`~inpaint.analysis.complementarity` — the stage-to-stage KL curves of global structure and local residual
  (Fig. 12).

The paper leaves most of these operators unspecified; the choices made here are written in each module and in
docs/analysis.md.
"""
