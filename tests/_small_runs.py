"""One short fit of a shipped model config in the cpu profile (embedded data, 64², `small` widths), as the command
line composes it (``defaults:`` expanded, so the width overlay applies), for tests that train a step or two."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def small_cli(run_dir: Path, model_configs: list[str], *extra: str, steps: int = 1):
    """The ``InpaintCLI`` (not yet fitted) of embedded data + ``model_configs`` + the cpu-small trainer profile."""
    cli = unchecked_small_cli(run_dir, model_configs, *extra, steps=steps)
    generator = cli.model.generator
    sizes = {level.size for level in generator.levels} if hasattr(generator, "levels") else {generator.size}
    assert sizes == {"small"}  # the cpu profile's width overlay was composed
    return cli


def unchecked_small_cli(run_dir: Path, model_configs: list[str], *extra: str, steps: int = 1):
    """:func:`small_cli` for generators that do not expose their width profile (the caller checks the config)."""
    from inpaint.config.compose import expand_defaults
    from inpaint.lit.cli import InpaintCLI

    args = ["--config", str(ROOT / "experiments/data/embedded.yaml")]
    for config in model_configs:
        args += ["--config", str(ROOT / config)]
    args += ["--config", str(ROOT / "experiments/trainer/cpu-small.yaml"), *extra,
             f"--trainer.max_steps={steps}", "--trainer.limit_val_batches=0", "--run.logger=none",
             "--trainer.enable_progress_bar=false", "--trainer.enable_checkpointing=false",
             "--run.image_grid_samples=0", "--data.init_args.batch_size=2", f"--run.dir={run_dir}"]
    return InpaintCLI(args=expand_defaults(args), run=False, stage="fit", parser_kwargs={"exit_on_error": False})
