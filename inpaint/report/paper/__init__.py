"""The TSGL paper's published facts, as data: one module per table (its arXiv version, whose tables are complete;
docs/model.md, "Which version of the paper").

Every number, row order, group title and method label a report shows for the paper lives here once; the report
builders (``inpaint.report.table*``), the sweep definitions (``sweeps/*.yaml``, names only) and ``inpaint info``
read them from these modules.

* :mod:`.labels` — the paper's method labels for the swap study's generator names.
* :mod:`.table1` — Table I (direction of reconstruction: FID of its four rows).
* :mod:`.table2` — Table II (encoder swap at 256², CelebA and Places2).
* :mod:`.table3` — Table III (Places2 at 512², LaMa's mask kinds).
* :mod:`.table4` — Table IV (architecture ablation, groups I–V).
* :mod:`.table7` — Table VII (cross-layer balance, metrics on structure images).
* :mod:`.complexity` — published Params / "FLOPs" (Tables III and V) and what each figure counts.
* :mod:`.tau` — the τ study of Appendix G / Fig. 23 (a plot: values tried and the best, no numbers).
"""
