#!/usr/bin/env bash
# Download into .whl/ the wheels that scripts/gpu_check.py needs on the GPU machine and its image lacks: the
# LightningCLI's jsonargparse[signatures] (jsonargparse, docstring_parser, typeshed_client). Everything else the
# check imports is there (torch, lightning, torchmetrics, scikit-image, …; docs/performance.md, "GPU check").
# Pure-Python wheels, about 1 MB, at the versions constraints.txt pins; .whl/ is git-ignored and travels as `carry`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
mapfile -t pins < <(grep -E '^(jsonargparse|docstring_parser|typeshed_client)==' constraints.txt)
[ "${#pins[@]}" -eq 3 ] || { echo "constraints.txt: expected 3 pins, found: ${pins[*]}" >&2; exit 1; }
rm -rf .whl && mkdir .whl  # one version of each: two would stop the install there
"$PYTHON" -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl "${pins[@]}"
ls -l .whl
