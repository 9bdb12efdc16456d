"""The token-mask census (where τ can act): exact counts on hand-made masks — with the shift, with padding — the
census through TSGL (independent of batching and of τ), the cpu τ setting's first block above 10 % masked keys, the
Lightning callback counting only the test pass, and the τ report's token table."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _tiny_models import TinyDataModule, TinyDiscriminator
from lightning.pytorch import Trainer
from torch import nn

from inpaint.analysis.token_masks import BlockCensus, TokenMaskCensus, block_label
from inpaint.data.masks import fixed_eval_masks
from inpaint.lit.callbacks import TokenMaskCensusCallback, TrialCost
from inpaint.lit.module import InpaintingGAN
from inpaint.models.generators.tsgl import TSGLGenerator
from inpaint.models.interface import GeneratorOutput, InpaintGenerator
from inpaint.nn.attention import MaskedWindowAttentionLayer
from inpaint.report.records import TrialRecord
from inpaint.report.tau import build_token_mask_table
from inpaint.sweeps.spec import load_spec

PAPER_BUCKETS = [[0.1, 0.2], [0.2, 0.3], [0.3, 0.4], [0.4, 0.5]]


def census_of(mask: np.ndarray, window: int = 4, shifted: bool = False) -> BlockCensus:
    layer = MaskedWindowAttentionLayer(dim=4, heads=1, window=window, shifted=shifted)
    known = torch.from_numpy(mask).float()[None, None]
    census = BlockCensus("block")
    census.add(layer, torch.zeros(1, 4, *mask.shape), known)
    return census


def counts(census: BlockCensus) -> tuple[int, int, int, int, int]:
    return (census.tokens, census.invalid_tokens, census.windows, census.partly_invalid_windows,
            census.all_invalid_windows)


def test_a_small_hole_makes_one_window_partly_invalid() -> None:
    mask = np.ones((8, 8), np.float32)
    mask[1:3, 1:3] = 0  # inside window 0 of the 2×2 windows of side 4
    census = census_of(mask)
    assert counts(census) == (64, 4, 4, 1, 0)
    assert census.masked_key_fraction == 4 / 64 and census.partly_invalid_window_fraction == 1 / 4
    assert census.all_invalid_window_fraction == 0


def test_a_hole_covering_a_window_is_all_invalid_not_partly() -> None:
    mask = np.ones((8, 8), np.float32)
    mask[0:4, 0:4] = 0
    assert counts(census_of(mask)) == (64, 16, 4, 0, 1)


def test_the_shift_decides_which_windows_a_hole_falls_in() -> None:
    mask = np.ones((8, 8), np.float32)
    mask[2:6, 2:6] = 0  # straddles all four plain windows; the half-window shift puts it exactly into one
    assert counts(census_of(mask, shifted=False)) == (64, 16, 4, 4, 0)
    assert counts(census_of(mask, shifted=True)) == (64, 16, 4, 0, 1)


def test_padding_tokens_are_neither_keys_nor_valid() -> None:
    mask = np.ones((6, 6), np.float32)
    mask[4:6, 4:6] = 0  # the bottom-right window holds these 4 map tokens and 12 padding tokens
    census = census_of(mask)
    assert census.window == 4 and counts(census) == (36, 4, 4, 0, 1)


def test_no_mask_means_an_unmasked_block() -> None:
    layer = MaskedWindowAttentionLayer(dim=4, heads=1, window=4, shifted=False)
    census = BlockCensus("block")
    census.add(layer, torch.zeros(2, 4, 8, 8), None)
    assert not census.masked and census.images == 2 and census.masked_key_fraction is None


def _tsgl_census(masks: list[np.ndarray], batches: int = 1, **encoder_options) -> list[dict]:
    generator = TSGLGenerator(variant="2Global(Local)->Global(Local)", size="small", preset="official",
                              encoder_options=encoder_options).eval()
    census = TokenMaskCensus(generator)
    known = torch.from_numpy(np.stack(masks))[:, None].float()
    with torch.no_grad(), census.recording():
        for part in known.chunk(batches):
            image = torch.rand(part.shape[0], 3, *part.shape[-2:]) * 2 - 1
            generator(image, part, edge=image[:, :1], gray=image[:, :1], smooth=image)
    return census.as_list()


def test_tsgl_census_does_not_depend_on_batching_or_tau() -> None:
    masks = fixed_eval_masks("thick", [[0.3, 0.4]], 4, 64)
    whole = _tsgl_census(masks, batches=1, tau=100)
    assert [b["block"] for b in whole][:2] == ["encoder.stages.0.blocks.0", "encoder.stages.0.blocks.1"]
    assert all(b["images"] == 4 for b in whole)
    def without_calls(blocks: list[dict]) -> list[dict]:
        return [{k: v for k, v in b.items() if k != "calls"} for b in blocks]

    assert without_calls(_tsgl_census(masks, batches=2, tau=100)) == without_calls(whole)
    assert _tsgl_census(masks, batches=1, tau=0) == whole  # τ weighs keys, it never changes which are masked
    assert whole[0]["invalid_tokens"] > 0 and whole[-1]["masked"] is False  # official: the last stage is unmasked


def test_the_cpu_tau_setting_gives_the_first_block_over_ten_percent_masked_keys() -> None:
    profile = load_spec("tau").profiles["cpu"].overrides
    kind = profile["data.init_args.eval_masks"]
    assert profile["data.init_args.train_masks"] == kind  # τ must matter in training too
    first = _tsgl_census(fixed_eval_masks(kind, PAPER_BUCKETS, 2, 64))[0]
    assert first["masked_key_fraction"] >= 0.10 and first["partly_invalid_window_fraction"] >= 0.25
    irregular = _tsgl_census(fixed_eval_masks("irregular", PAPER_BUCKETS, 2, 64))[0]
    assert irregular["masked_key_fraction"] < 0.05  # why the irregular masks of the ablation could not show τ


class TinyAttentionGenerator(InpaintGenerator):
    """conv → one masked-attention block on the full-resolution mask → conv; enough to run the census in Lightning."""

    size_multiple = 4

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Conv2d(4, 8, 3, padding=1)
        self.attend = MaskedWindowAttentionLayer(dim=8, heads=2, window=4, shifted=False)
        self.to_image = nn.Conv2d(8, 3, 3, padding=1)

    def forward(self, image, mask, edge=None, gray=None, smooth=None) -> GeneratorOutput:
        features, _ = self.attend(self.embed(torch.cat([image * mask, mask], dim=1)), mask)
        return GeneratorOutput(image=torch.tanh(self.to_image(features)))


def test_the_callback_counts_the_test_pass_only(tmp_path) -> None:
    data = TinyDataModule(size=16, val_length=4)
    census, cost = TokenMaskCensusCallback(), TrialCost(repeats=3, warmup=1)  # cost runs 4 more forwards after test
    trainer = Trainer(accelerator="cpu", devices=1, max_steps=2, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path),
                      limit_val_batches=0, num_sanity_val_steps=0, callbacks=[cost, census])
    model = InpaintingGAN(TinyAttentionGenerator(), TinyDiscriminator(), losses={"lambda_aux": 0.0})
    trainer.fit(model, datamodule=data)
    trainer.test(model, datamodule=data, verbose=False)
    (block,) = census.blocks
    assert block["block"] == "generator.attend" and block["images"] == 4
    expected = BlockCensus("generator.attend")
    for batch in data.test_dataloader():
        expected.add(model.generator.attend, torch.zeros(batch["mask"].shape[0], 8, 16, 16), batch["mask"])
    assert counts(expected) == tuple(block[k] for k in ("tokens", "invalid_tokens", "windows",
                                                         "partly_invalid_windows", "all_invalid_windows"))
    assert block["invalid_tokens"] > 0


def _record(number: int, blocks: list[dict]) -> TrialRecord:
    return TrialRecord(number, {"tau": 100, "seed": number}, {}, attrs={"token_masks": blocks})


def _block(name: str, invalid: int, partly: int, masked: bool = True) -> dict:
    return {"block": name, "tokens_h": 16, "tokens_w": 16, "window": 8, "masked": masked, "tokens": 256,
            "invalid_tokens": invalid, "windows": 4, "partly_invalid_windows": partly, "all_invalid_windows": 0}


def test_the_token_table_pools_counts_over_trials() -> None:
    first, last = "generator.encoder.stages.0.blocks.0", "generator.encoder.stages.3.blocks.1"
    records = [_record(0, [_block(first, 32, 2), _block(last, 0, 0, masked=False)]),
               _record(1, [_block(first, 64, 4), _block(last, 0, 0, masked=False)])]
    table = build_token_mask_table(records)
    row = table.row("stage 2 · block 1")
    assert row.cells["invalid_tokens_pct"].ours.mean == pytest.approx(100 * 96 / 512)
    assert row.cells["partly_invalid_windows_pct"].ours.mean == pytest.approx(75.0)
    assert row.cells["grid_tokens"].ours.mean == 16 and "2 trial(s)" in table.caption
    assert table.row("stage 5 · block 2").cells["invalid_tokens_pct"].ours.mean is None
    assert any("stage 5 · block 2" in note for note in table.notes)
    assert build_token_mask_table([TrialRecord(0, {}, {})]).notes  # nothing stored: said, not an empty table


def test_block_labels_follow_the_papers_stage_numbers() -> None:
    assert block_label("generator.encoder.stages.0.blocks.1") == "stage 2 · block 2"
    assert block_label("generator.attend") == "generator.attend"
