"""A trial's output goes to its run folder, its steps to a progress file the live view reads."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

from optuna.trial import TrialState
from rich.console import Console

from inpaint.sweeps.progress import SweepProgress
from inpaint.sweeps.trial_log import LOG_NAME, PROGRESS_NAME, StepFile, read_step, terminal_stream, trial_output


def test_everything_a_trial_prints_lands_in_its_log(tmp_path, capfd):
    log = tmp_path / LOG_NAME
    print("before", flush=True)
    with trial_output(log):
        print("python stdout")
        print("python stderr", file=sys.stderr)
        os.write(1, b"native stdout\n")
        subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('child stderr\\n')"], check=True)
    print("after", flush=True)
    written = log.read_text()
    for line in ("python stdout", "python stderr", "native stdout", "child stderr"):
        assert line in written
    out, err = capfd.readouterr()
    assert out.split() == ["before", "after"] and err == ""


def test_redirection_is_undone_when_the_trial_raises(tmp_path, capfd):
    try:
        with trial_output(tmp_path / LOG_NAME):
            raise ValueError("boom")
    except ValueError:
        pass
    print("visible", flush=True)
    assert capfd.readouterr().out == "visible\n"


def test_disabled_redirection_writes_nothing(tmp_path, capfd):
    with trial_output(tmp_path / LOG_NAME, enabled=False):
        print("shown", flush=True)
    assert capfd.readouterr().out == "shown\n" and not (tmp_path / LOG_NAME).exists()


def test_step_file_and_the_live_view(tmp_path):
    path = tmp_path / PROGRESS_NAME
    assert read_step(tmp_path) == "" and read_step(None) == ""
    trainer = SimpleNamespace(is_global_zero=True, global_step=12, max_steps=40)
    StepFile(path).on_train_batch_end(trainer, None, None, None, 0)
    assert read_step(tmp_path) == "step 12/40"
    trainer.max_steps = -1  # no step limit (epochs)
    StepFile(path).on_train_batch_end(trainer, None, None, None, 0)
    assert read_step(tmp_path) == "step 12"

    view = SweepProgress("study", total=4, console=Console(file=open(os.devnull, "w")), enabled=False)
    view.on_event("start", {"number": 3, "cell": {"variant": "Baseline", "seed": 0}, "run_dir": tmp_path})
    assert view.running_text() == "running: variant Baseline · seed 0 (step 12)"
    view.on_event("done", {"number": 3, "cell": {"variant": "Baseline", "seed": 0}, "state": TrialState.FAIL,
                           "attrs": {"error": "ValueError: x", "run_dir": str(tmp_path)}})
    assert view.running_text() == "" and view.failed == 1


def test_the_terminal_stream_bypasses_the_redirection(tmp_path, capfd):
    terminal = terminal_stream()
    try:
        with trial_output(tmp_path / LOG_NAME):
            terminal.write("live view\n")
            terminal.flush()
            print("trial", flush=True)
    finally:
        terminal.close()
    assert "live view" in capfd.readouterr().err
    assert (tmp_path / LOG_NAME).read_text() == "trial\n"


def test_the_live_view_says_why_a_cell_could_not_start(tmp_path):
    from io import StringIO

    out = StringIO()
    view = SweepProgress("study", total=2, console=Console(file=out, width=200), enabled=True)
    with view:
        view.on_event("done", {"number": 0, "cell": {"variant": "a", "seed": 0}, "state": TrialState.FAIL,
                               "attrs": {"unavailable": "n/a — 'vgg16.pth' is not in '/hub'",
                                         "unavailable_path": "/hub/vgg16.pth"}})
        view.on_event("done", {"number": 1, "cell": {"prior": "segmentation", "seed": 0}, "state": TrialState.FAIL,
                               "attrs": {"unavailable": "structure_prior='segmentation' needs segmentation maps: none",
                                         "unavailable_path": ""}})
    text = out.getvalue()
    assert "variant a · seed 0: needs vgg16.pth (not on this machine)" in text
    assert "prior segmentation · seed 0: structure_prior='segmentation' needs segmentation maps: none" in text
    assert view.failed == 0  # n/a is not a failure
