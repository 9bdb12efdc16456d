"""The wrappers around Optuna, Lightning and torch internals: they work on the pinned versions, and a missing
internal gives one clear error naming the installed version instead of an AttributeError deep in a run."""

from __future__ import annotations

import re
import sys
import warnings
from types import SimpleNamespace

import lightning
import optuna
import pytest
import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.core.mixins import hparams_mixin
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from inpaint.lit import lightning_private
from inpaint.lit.lightning_private import hyperparameters_being_saved, set_optimizer_step_hooks
from inpaint.models.complexity import CUSTOM_FORMULAS
from inpaint.nn import torch_private
from inpaint.nn.torch_private import cpu_flash_attention_ops, dispatch_mode_base, foreach_lerp_
from inpaint.sweeps import optuna_private
from inpaint.sweeps.optuna_private import study_id, study_storage, trial_id, trial_model, uncached_storage
from inpaint.sweeps.storage import open_storage, rdb_storage

optuna.logging.set_verbosity(optuna.logging.WARNING)


# --- Optuna -------------------------------------------------------------------------------------------------------

def test_optuna_accessors_on_an_in_memory_study() -> None:
    study = optuna.create_study(study_name="a")
    first, second = study.ask(), study.ask()
    storage = study_storage(study)
    assert isinstance(storage, optuna.storages.InMemoryStorage)
    assert study_id(study) == 0
    assert (trial_id(first), trial_id(second)) == (0, 1)
    assert [trial_id(t) for t in study.get_trials(deepcopy=False)] == [0, 1]  # frozen trials too
    assert storage.get_trial(trial_id(second)).number == second.number == 1
    assert uncached_storage(storage) is storage  # not Optuna's caching wrapper: returned as given


def test_optuna_accessors_on_an_rdb_study(tmp_path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}", heartbeat_interval=1, grace_period=2)
    study = optuna.create_study(study_name="b", storage=storage)
    trial = study.ask()
    backend = rdb_storage(study)  # goes through study_storage + uncached_storage
    assert isinstance(backend, optuna.storages.RDBStorage) and backend.url == storage.url
    table = trial_model()
    assert table.__tablename__ == "trials"
    session = backend.scoped_session()
    try:
        rows = session.query(table).filter(table.study_id == study_id(study)).all()
        assert [(row.trial_id, row.number) for row in rows] == [(trial_id(trial), 0)]
    finally:
        session.close()


def test_optuna_accessors_name_the_version_when_an_attribute_is_missing(monkeypatch) -> None:
    version = re.escape(optuna.__version__)
    for accessor, attribute in ((study_storage, "_storage"), (study_id, "_study_id"), (trial_id, "_trial_id")):
        with pytest.raises(RuntimeError, match=rf"SimpleNamespace\.{attribute} .* optuna {version}; inpaint needs"):
            accessor(SimpleNamespace())

    class _CachedStorage:  # Optuna's wrapper, as a later version might lay it out
        pass

    with pytest.raises(RuntimeError, match=rf"_CachedStorage\._backend \(the wrapped storage\) .* optuna {version}"):
        uncached_storage(_CachedStorage())
    monkeypatch.setitem(sys.modules, "optuna.storages._rdb.models", None)  # the private module gone
    with pytest.raises(RuntimeError, match=rf"_rdb\.models\.TrialModel .* optuna {version}"):
        trial_model()


# --- Lightning ----------------------------------------------------------------------------------------------------

class _Recorder(LightningModule):
    """Keeps what the wrapper saw while the module was being built."""

    def __init__(self, width: int = 2) -> None:
        super().__init__()
        self.seen = hyperparameters_being_saved()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(width, 1)


def test_hyperparameters_being_saved_is_the_cli_config_only_during_cli_instantiation(tmp_path) -> None:
    assert hyperparameters_being_saved() is None
    assert _Recorder().seen is None
    cli = LightningCLI(_Recorder, run=False, args=["--model.width=3"], save_config_callback=None,
                       trainer_defaults={"logger": False, "enable_checkpointing": False,
                                         "default_root_dir": str(tmp_path)})
    assert cli.model.seen is not None and cli.model.seen["width"] == 3
    assert cli.model.hparams["width"] == 3
    assert hyperparameters_being_saved() is None  # the CLI resets its context afterwards


class _ManualStep(LightningModule):
    """One manual optimiser step with replaced step hooks; records their order around the weight update."""

    def __init__(self) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.layer = torch.nn.Linear(2, 1, bias=False)
        torch.nn.init.ones_(self.layer.weight)
        self.calls: list[tuple[str, list[float]]] = []

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        weights = lambda: self.layer.weight.detach().flatten().tolist()  # noqa: E731
        set_optimizer_step_hooks(opt, before=lambda: self.calls.append(("before", weights())),
                                 after=lambda: self.calls.append(("after", weights())))
        opt.zero_grad()
        self.manual_backward(self.layer(batch[0]).sum())
        opt.step()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.5)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor([[1.0, 2.0]])), batch_size=1)


def test_set_optimizer_step_hooks_runs_them_around_a_real_step(tmp_path) -> None:
    module = _ManualStep()
    trainer = Trainer(accelerator="cpu", max_epochs=1, limit_train_batches=1, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path))
    trainer.fit(module)
    # SGD, lr 0.5, gradient of w·x = x = (1, 2): w goes from (1, 1) to (0.5, 0)
    assert module.calls == [("before", [1.0, 1.0]), ("after", [0.5, 0.0])]
    assert trainer.global_step == 0  # the replaced hooks were Lightning's step counters


def test_lightning_accessors_name_the_version_when_an_internal_is_missing(monkeypatch) -> None:
    version = re.escape(lightning.__version__)
    plain = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)  # not wrapped by Lightning: no hooks
    with pytest.raises(RuntimeError, match=rf"SGD\._on_before_step .* lightning {version}; inpaint needs"):
        set_optimizer_step_hooks(plain, before=lambda: None, after=lambda: None)
    monkeypatch.delattr(hparams_mixin, "_given_hyperparameters")
    with pytest.raises(RuntimeError, match=rf"_given_hyperparameters .* lightning {version}"):
        hyperparameters_being_saved()


# --- torch --------------------------------------------------------------------------------------------------------

def test_foreach_lerp_updates_every_tensor_in_place() -> None:
    targets = [torch.tensor([0.0, 4.0]), torch.tensor([[1.0]])]
    foreach_lerp_(targets, [torch.tensor([2.0, 8.0]), torch.tensor([[3.0]])], 0.25)
    assert [t.tolist() for t in targets] == [[0.5, 5.0], [[1.5]]]


def test_cpu_flash_attention_ops_are_the_kernel_sdpa_runs_on_cpu() -> None:
    forward, backward = cpu_flash_attention_ops()
    assert "_scaled_dot_product_flash_attention_for_cpu" in str(forward)
    assert "_scaled_dot_product_flash_attention_for_cpu_backward" in str(backward)
    q = torch.randn(1, 1, 4, 8)
    with FlopCounterMode(display=False) as plain:
        torch.nn.functional.scaled_dot_product_attention(q, q, q)
    with FlopCounterMode(display=False, custom_mapping=CUSTOM_FORMULAS) as counted:
        torch.nn.functional.scaled_dot_product_attention(q, q, q)
    assert plain.get_total_flops() == 0  # why the formulas exist
    assert counted.get_total_flops() == sdpa_flop_count(q.shape, q.shape, q.shape) == 512


def test_torch_accessors_name_the_version_when_an_internal_is_missing(monkeypatch) -> None:
    version = re.escape(torch.__version__)
    monkeypatch.delattr(torch, "_foreach_lerp_")
    with pytest.raises(RuntimeError, match=rf"torch\._foreach_lerp_ .* torch {version}"):
        foreach_lerp_([torch.zeros(1)], [torch.ones(1)], 0.5)
    from torch.utils import _python_dispatch

    assert issubclass(dispatch_mode_base(), _python_dispatch.TorchDispatchMode)
    monkeypatch.delattr(_python_dispatch, "TorchDispatchMode")
    with pytest.raises(RuntimeError, match=rf"TorchDispatchMode .* torch {version}"):
        dispatch_mode_base()
    monkeypatch.setattr(torch, "ops", SimpleNamespace(aten=SimpleNamespace()))
    with pytest.raises(RuntimeError, match=rf"aten\._scaled_dot_product_flash_attention_for_cpu .* torch {version}"):
        cpu_flash_attention_ops()


# --- version range ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("wrapper", "library", "call"),
    [
        (optuna_private.TESTED_OPTUNA, optuna, lambda: study_storage(optuna.create_study())),
        (lightning_private.TESTED_LIGHTNING, lightning, hyperparameters_being_saved),
        (torch_private.TESTED_TORCH, torch, lambda: foreach_lerp_([torch.zeros(1)], [torch.ones(1)], 0.5)),
    ],
    ids=["optuna", "lightning", "torch"],
)
def test_an_untested_version_warns_once(monkeypatch, wrapper, library, call) -> None:
    monkeypatch.setattr(library, "__version__", "1.0.0")
    wrapper.reset()
    try:
        with pytest.warns(RuntimeWarning, match=r"1\.0\.0 is outside the range"):
            call()
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            call()  # once per process
    finally:
        wrapper.reset()


def test_pinned_versions_are_inside_the_tested_ranges() -> None:
    from packaging.version import Version

    for tested in (optuna_private.TESTED_OPTUNA, lightning_private.TESTED_LIGHTNING, torch_private.TESTED_TORCH):
        assert Version(tested.low) <= Version(tested.version.split("+")[0]) < Version(tested.high)
