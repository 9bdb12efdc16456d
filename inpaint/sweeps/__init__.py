"""Optuna sweeps: studies at a storage URL, grid cells claimed exactly once, resumable after kills.

Building blocks: :mod:`storage` (URL, heartbeats, locks), :mod:`queue` (enqueue/claim of grid cells),
:mod:`worker` (the claim-run-store loop), :mod:`study` (creating studies), :mod:`spec` (``sweeps/*.yaml``),
:mod:`objective` / :mod:`lightning_trial` (what a trial runs), :mod:`progress`; wiring in :mod:`run`.
"""
