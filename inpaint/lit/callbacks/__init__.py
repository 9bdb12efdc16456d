"""Lightning callbacks of the suite: validation image grids, run summary, per-rank audit, checkpoint on SIGTERM,
a trial's cost (parameters, MACs, inference and training time), the token masks the attention blocks see, the
compare study's hole-size and resolution sweeps."""

from inpaint.lit.callbacks.hole_size_sweep import HoleSizeSweep
from inpaint.lit.callbacks.image_grid import ValidationImageGrid, make_grid_rows
from inpaint.lit.callbacks.rank_audit import RankAudit
from inpaint.lit.callbacks.resolution_sweep import ResolutionSweep
from inpaint.lit.callbacks.run_summary import RunSummary
from inpaint.lit.callbacks.stop_on_signal import SIGTERM_EXIT, CheckpointOnSigterm
from inpaint.lit.callbacks.token_census import TokenMaskCensusCallback
from inpaint.lit.callbacks.trial_cost import TrialCost

__all__ = ["SIGTERM_EXIT", "CheckpointOnSigterm", "HoleSizeSweep", "RankAudit", "ResolutionSweep", "RunSummary",
           "TokenMaskCensusCallback", "TrialCost", "ValidationImageGrid", "make_grid_rows"]
