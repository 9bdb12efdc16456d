"""Timing of a full evaluation pass (all metrics, FID included) on synthetic images — for ``inpaint bench``."""

from __future__ import annotations

import os
import time

import torch

from inpaint.metrics.collection import InpaintingMetrics
from inpaint.metrics.lpips import LPIPSBackend, build_lpips, resolve_lpips


def bench_metrics(n: int = 64, size: int = 64, batch_size: int = 16, threads: int | None = 2, seed: int = 0) -> dict:
    """Evaluate ``n`` random size×size images with every metric (composite + raw) and report the wall time.

    LPIPS runs with its real backbone when the weights are present offline, else with a random-weight backbone of
    the same architecture (same cost; flagged in the result). FID uses the offline Inception when available.
    Returns a dict with the timings (wall and CPU seconds, with the 1-minute load average before/after, since a
    shared machine stretches wall time), the backends used and the overall composite scores.
    """
    if threads is not None:
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
    try:
        generator = torch.Generator().manual_seed(seed)
        target = torch.rand(n, 3, size, size, generator=generator) * 2 - 1
        output = (target + 0.3 * torch.randn(n, 3, size, size, generator=generator)).clamp(-1, 1)
        mask = torch.ones(n, 1, size, size)
        for i in range(n):  # one box hole per image, 10–50 % of the area
            side = int(size * (0.32 + 0.38 * i / max(n - 1, 1)))
            mask[i, :, :side, :side] = 0

        lpips_backend = resolve_lpips("alex")
        lpips_random = not lpips_backend.available
        if lpips_random:
            lpips_backend = LPIPSBackend("alex (random weights, timing only)", build_lpips("alex", True))

        load_before = os.getloadavg()[0]
        cpu_start = time.process_time()
        start = time.perf_counter()
        metrics = InpaintingMetrics(lpips_backend=lpips_backend)
        setup_s = time.perf_counter() - start
        for lo in range(0, n, batch_size):
            sl = slice(lo, lo + batch_size)
            metrics.update(target[sl], output[sl], mask[sl])
        update_s = time.perf_counter() - start - setup_s
        report = metrics.compute()
        total_s = time.perf_counter() - start
        cpu_s = time.process_time() - cpu_start
    finally:
        if threads is not None:
            torch.set_num_threads(previous_threads)
    overall = report.overall.values["composite"]
    return {
        "n": n,
        "size": size,
        "threads": threads,
        "setup_s": round(setup_s, 3),
        "update_s": round(update_s, 3),
        "compute_s": round(total_s - setup_s - update_s, 3),
        "total_s": round(total_s, 3),
        "cpu_s": round(cpu_s, 3),  # all threads; wall ≫ cpu/threads means the machine was shared
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "inception_passes": 3 * n if report.protocol["fid_backend"] != "n/a" else 0,
        "fid_backend": report.protocol["fid_backend"],
        "lpips": lpips_backend.net,
        "lpips_random_backbone": lpips_random,
        "overall_composite": overall,
    }
