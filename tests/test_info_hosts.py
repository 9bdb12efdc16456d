"""`inpaint info --config experiments/model/<host>.yaml` for every generator, with the paper's figure beside ours."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inpaint.commands import info

REPO = Path(__file__).resolve().parents[1]
HOSTS = ["tsgl", "pennet", "ours_pennet", "hifill", "ours_hifill", "lama", "ours_lama", "ours_basic", "deepfillv2",
         "pyramid"]


@pytest.mark.parametrize("host", HOSTS)
def test_info_counts_every_host_config(host: str, capsys) -> None:
    config = REPO / "experiments" / "model" / f"{host}.yaml"
    assert info.main(["--config", str(config), "--size", "small", "--resolution", "64"]) == 0
    text = capsys.readouterr().out
    assert "params: total" in text and "MACs" in text
    paper_line = next(line for line in text.splitlines() if line.strip().startswith("paper"))
    if host in ("hifill", "lama", "ours_lama"):
        assert "Table III, 512×512" in paper_line and "not comparable: run with --resolution 512" in paper_line
    elif host == "tsgl":
        assert "Table V, 256×256" in paper_line
    else:
        assert paper_line.strip().startswith("paper: n/a")


def test_info_ours_lama_at_512_beside_table_iii(capsys) -> None:
    config = REPO / "experiments" / "model" / "ours_lama.yaml"
    assert info.main(["--config", str(config), "--resolution", "512", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["inference"]["params"] == 34_468_035  # without D_S, like the paper's 34.0 M (within 5 %)
    assert abs(data["inference"]["params"] / 34.0e6 - 1) < 0.05
    assert abs(data["inference"]["macs"] / 463.0e9 - 1) < 0.01
    assert "ratio ours/paper: params 1.014, MACs 1.001" in data["paper_comparison"]
