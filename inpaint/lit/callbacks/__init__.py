"""Lightning callbacks of the suite: validation image grids, run summary, per-rank audit."""

from inpaint.lit.callbacks.image_grid import ValidationImageGrid, make_grid_rows
from inpaint.lit.callbacks.rank_audit import RankAudit
from inpaint.lit.callbacks.run_summary import RunSummary

__all__ = ["RankAudit", "RunSummary", "ValidationImageGrid", "make_grid_rows"]
