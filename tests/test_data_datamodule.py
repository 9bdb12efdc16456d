"""InpaintDataModule: the batch contract, mask polarity end to end, fixed eval set, seeding, cache, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint.commands.prepare import main as prepare_main
from inpaint.data.buckets import PAPER_BUCKETS, bucket_index
from inpaint.data.datamodule import EpochSampler, InpaintDataModule
from inpaint.data.synthetic import synthetic_image

SMALL = dict(source="synthetic", resolution=64, batch_size=4, eval_per_bucket=2)


def _check_batch(batch, size=64, batch_size=4, mask_kind="irregular"):
    assert batch["image"].shape == (batch_size, 3, size, size) and batch["image"].dtype == torch.float32
    assert -1 <= batch["image"].min() and batch["image"].max() <= 1
    assert batch["smooth"].shape == batch["image"].shape and -1 <= batch["smooth"].min() <= batch["smooth"].max() <= 1
    for key in ("mask", "edge", "gray"):
        assert batch[key].shape == (batch_size, 1, size, size), key
    assert set(batch["mask"].unique().tolist()) <= {0.0, 1.0} and set(batch["edge"].unique().tolist()) <= {0.0, 1.0}
    assert 0 <= batch["gray"].min() and batch["gray"].max() <= 1
    assert torch.allclose(batch["hole_ratio"], 1 - batch["mask"].mean(dim=(1, 2, 3)))
    assert isinstance(batch["id"], list) and len(batch["id"]) == batch_size
    assert batch["mask_kind"] == [mask_kind] * batch_size  # collated as list[str]


def test_batch_contract_train_and_eval():
    module = InpaintDataModule(**SMALL)
    module.setup("fit")
    _check_batch(next(iter(module.train_dataloader())))
    val = next(iter(module.val_dataloader()))
    _check_batch(val)
    # eval set = eval_per_bucket samples per bucket, bucket-major, each mask in its bucket
    assert len(module.val_dataloader().dataset) == 2 * len(PAPER_BUCKETS)
    assert [bucket_index(r, PAPER_BUCKETS) for r in val["hole_ratio"].tolist()] == [0, 0, 1, 1]


def test_eval_set_identical_across_instances_and_calls():
    first = next(iter(InpaintDataModule(**SMALL).test_dataloader()))
    second_module = InpaintDataModule(**SMALL)
    second = next(iter(second_module.test_dataloader()))
    third = next(iter(second_module.test_dataloader()))
    for key in ("image", "mask", "edge", "smooth"):
        assert torch.equal(first[key], second[key]) and torch.equal(second[key], third[key])
    assert first["id"] == second["id"]


def test_training_is_reproducible_and_changes_with_epoch():
    dataset = InpaintDataModule(**SMALL, train_length=8).train_dataloader().dataset
    a, b = dataset[(0, 3)], dataset[(0, 3)]
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["mask"], b["mask"])
    assert not torch.equal(a["mask"], dataset[(1, 3)]["mask"])
    sampler = EpochSampler(dataset, shuffle=True, seed=0)
    keys0 = list(sampler)
    sampler.set_epoch(1)
    keys1 = list(sampler)
    assert {k[0] for k in keys0} == {0} and {k[0] for k in keys1} == {1}
    assert sorted(k[1] for k in keys1) == list(range(8))


def test_mask_polarity_end_to_end(tmp_path):
    """A mask file that is white at the hole gives mask tensor 0 there (and 1 elsewhere), train and eval."""
    pixels = np.zeros((96, 96), np.uint8)
    pixels[24:72, 24:72] = 255  # white square = hole; symmetric so the training flip keeps it in place
    (tmp_path / "masks").mkdir()
    Image.fromarray(pixels).save(tmp_path / "masks" / "hole.png")
    options = {**SMALL, "eval_per_bucket": 1, "smoothing": "none", "eval_buckets": []}
    module = InpaintDataModule(**options, train_masks=str(tmp_path / "masks"), eval_masks=str(tmp_path / "masks"))
    expected = torch.ones(1, 64, 64)
    expected[:, 16:48, 16:48] = 0
    module.setup("fit")
    for batch in (next(iter(module.train_dataloader())), next(iter(module.val_dataloader()))):
        assert all(torch.equal(mask, expected) for mask in batch["mask"])
        assert batch["mask_kind"] == ["folder"] * len(batch["mask"])
    black = InpaintDataModule(**options, eval_masks=str(tmp_path / "masks"), mask_hole_value="black")
    assert torch.equal(next(iter(black.val_dataloader()))["mask"][0], 1 - expected)


def test_kornia_edges_added_after_transfer():
    module = InpaintDataModule(**SMALL, edge_backend="kornia", smoothing="none")
    batch = next(iter(module.val_dataloader()))
    assert "edge" not in batch
    batch = module.on_after_batch_transfer(batch, 0)
    assert batch["edge"].shape == batch["gray"].shape and batch["edge"].sum() > 0


def _folder(tmp_path, count=3):
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(count):
        Image.fromarray(synthetic_image(np.random.default_rng(i), 70, 90)).save(root / f"img{i}.png")
    return root


def test_folder_source_with_prepared_cache(tmp_path, capsys):
    root = _folder(tmp_path)
    assert prepare_main(["--data", str(root), "--resolution", "64", "--layout", "plain"]) == 0
    assert "3 computed" in capsys.readouterr().out
    assert prepare_main(["--data", str(root), "--resolution", "64"]) == 0
    assert "0 computed, 3 already cached" in capsys.readouterr().out
    assert not list(root.rglob("*.tmp"))
    module = InpaintDataModule(source="folder", data_root=str(root), resolution=64, batch_size=2, eval_per_bucket=1)
    with pytest.warns(UserWarning, match="too few images"):
        module.setup("validate")
    dataset = module.eval_sets["val"]
    assert dataset.images.cache is not None
    crop = dataset.images.load(0, None)
    assert crop.smooth is not None and crop.smooth.shape == (64, 64, 3)
    batch = next(iter(module.val_dataloader()))
    _check_batch(batch, batch_size=2)
    assert torch.allclose(batch["smooth"][0], torch.from_numpy(crop.smooth).permute(2, 0, 1).float() / 127.5 - 1)


def test_prepare_reports_bad_folder(tmp_path, capsys):
    assert prepare_main(["--data", str(tmp_path / "nothing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    root = _folder(tmp_path, 1)
    (root / "bad.jpg").write_bytes(b"not a jpeg")
    assert prepare_main(["--data", str(root), "--resolution", "64"]) == 1
    assert "bad.jpg" in capsys.readouterr().err
    assert prepare_main(["--data", str(root), "--resolution", "64", "--skip-corrupt"]) == 0
    assert "1 corrupt skipped" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (dict(resolution=100), ValueError, "multiples of 32"),
        (dict(source="imagenet"), ValueError, "unknown source 'imagenet'"),
        (dict(train_masks="stripes"), ValueError, "train_masks='stripes' is neither"),
        (dict(edge_backend="sobel"), ValueError, "unknown edge backend 'sobel'"),
        (dict(smoothing="bilateral"), ValueError, "unknown smoothing 'bilateral'"),
        (dict(eval_buckets=[(0.3, 0.2)]), ValueError, "bad bucket"),
        (dict(source="folder"), ValueError, "needs data_root"),
        (dict(source="folder", data_root="/nonexistent/photos"), FileNotFoundError, "does not exist"),
        (dict(layout="ffhq"), ValueError, "unknown layout 'ffhq'"),
    ],
)
def test_bad_arguments_fail_fast(kwargs, error, message):
    with pytest.raises(error, match=message):
        InpaintDataModule(**kwargs)


def test_empty_folder_source(tmp_path):
    (tmp_path / "empty").mkdir()
    module = InpaintDataModule(source="folder", data_root=str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="no images found"):
        module.setup("fit")


def test_mask_kind_follows_the_generators_and_lama_folder_names(tmp_path):
    module = InpaintDataModule(**SMALL, train_masks="thick", eval_masks="thin", eval_buckets=[])
    module.setup("fit")
    assert next(iter(module.train_dataloader()))["mask_kind"] == ["thick"] * 4
    assert set(next(iter(module.val_dataloader()))["mask_kind"]) == {"thin"}
    folder = tmp_path / "random_medium_256"  # LaMa's eval folders name their kind
    folder.mkdir()
    pixels = np.zeros((64, 64), np.uint8)
    pixels[10:30, 10:30] = 255
    Image.fromarray(pixels).save(folder / "m0.png")
    lama = InpaintDataModule(
        **{**SMALL, "eval_per_bucket": 1}, eval_masks=str(folder), eval_buckets=[], smoothing="none"
    )
    assert next(iter(lama.val_dataloader()))["mask_kind"] == ["medium"]


def test_options_are_keywords_with_immutable_defaults():
    import inspect

    parameters = list(inspect.signature(InpaintDataModule).parameters.values())
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    for p in parameters:
        assert not isinstance(p.default, (list, dict, set)), p.name
    with pytest.raises(TypeError):
        InpaintDataModule("embedded")  # type: ignore[misc]
