# Every task runs from here; `make help` lists them.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# Offline copies of the datasets (torchvision layouts); copied into DATA_DIR by `make data`.
SHARED_DATA ?= ../shared/datasets
DATA_DIR ?= data
export ANOMALY_BENCH_DATA ?= $(abspath $(DATA_DIR))
# The paper's grids (anomaly_bench/conf/experiment/): these scale a run without editing files. Empty = the
# experiment's own grid (7 methods x 10 classes x seed 0) and each method's own epochs.
RESULTS ?= results
CLASSES ?=
MODELS ?=
EPOCHS ?=
SEEDS ?=
LAUNCHER ?=
# What the report shows: WHERE="max_epochs=15 model.encoder=izi_f" keeps only matching rows;
# CURVES=1 draws the learning curves of runs that recorded one.
WHERE ?=
CURVES ?=
REPORT_ARGS = $(foreach condition,$(WHERE),--where $(condition)) $(if $(CURVES),--curves)
GRID = skip_done=true paths.results_dir=$(RESULTS) trainer.enable_progress_bar=false \
	$(if $(CLASSES),data.normal_class=$(CLASSES)) $(if $(MODELS),model=$(MODELS)) \
	$(if $(EPOCHS),trainer.max_epochs=$(EPOCHS)) $(if $(SEEDS),'seed=range(0,$(SEEDS))') \
	$(if $(LAUNCHER),hydra/launcher=$(LAUNCHER)) $(GRID_ARGS)
# The grid, then the comparison even when some jobs failed (their rows say why); make still
# reports the failure through the exit status.
reproduce = $(BIN)/python -m anomaly_bench.train --multirun experiment=$(1) $(GRID); status=$$?; \
	$(BIN)/python -m anomaly_bench.report --results-dir $(RESULTS) --table $(2) $(REPORT_ARGS) && \
	exit $$status
# The demo: five methods on scikit-learn's bundled digits, every class, each at its demo budget
# (its yaml's demo_epochs); DEMO_EPOCHS sets every method's epochs, DEMO_MODELS the methods
# (default: those whose yaml states a demo budget).
DEMO_CLASSES ?= 0,1,2,3,4,5,6,7,8,9
DEMO_MODELS ?=
DEMO_EPOCHS ?=
DEMO_RESULTS ?= results/demo
# The GPU queue (docs/gpu_session.md): minutes of runs one device call may start, jobs sharing the GPU.
GPU_MINUTES ?= 7
GPU_JOBS ?= 14
# More options of the queue's run, e.g. GPU_QUEUE_ARGS=--mps (CUDA's MPS daemon for the stretch).
GPU_QUEUE_ARGS ?=
# The datasets `make gpu-pack` packs for the device calls (cifar10; mnist fmnist for Tables 1-2).
DATASETS ?= cifar10
# The speed matrix's seconds (a device command may run 10 minutes, less install and start-up),
# and options narrowing it (e.g. GPU_SPEED_ARGS="--variants cuda_graphs --jobs 14").
GPU_SPEED_SECONDS ?= 480
GPU_SPEED_ARGS ?=

.PHONY: help install lock data test test-full lint format demo report bench \
	test-oldest reproduce-table1 reproduce-table2 reproduce-table3 reproduce-table4 reproduce-leave-one-out \
	wandb-sync gpu-wheels gpu-pack gpu-session gpu-speed

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: $(VENV)/.installed  ## create .venv and install the package with its test extras

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install -c constraints.txt -e '.[test]'
	touch $@

lock:  ## rewrite constraints.txt (the exact versions install uses) from .venv
	{ sed -n '/^#/p' constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v '^anomaly-bench'; } \
		> constraints.txt.new && mv constraints.txt.new constraints.txt

data:  ## copy the offline datasets from SHARED_DATA into DATA_DIR (skipped when absent: they download)
	@if [ -d "$(SHARED_DATA)" ]; then \
		mkdir -p $(DATA_DIR) && cp -rn $(SHARED_DATA)/MNIST $(SHARED_DATA)/FashionMNIST \
			$(SHARED_DATA)/cifar-10-batches-py $(SHARED_DATA)/SHA256SUMS $(DATA_DIR)/ && \
		chmod -R u+w $(DATA_DIR) && \
		echo "datasets in $(DATA_DIR) (from $(SHARED_DATA))"; \
	else echo "no $(SHARED_DATA): datasets download into $(DATA_DIR) on first use"; fi

test: data  ## the test suite (CPU, minutes); slow end-to-end tests are in test-full
	WANDB_MODE=disabled $(BIN)/pytest -m "not slow"

test-full: data  ## every test, the slow ones included
	WANDB_MODE=disabled $(BIN)/pytest

# The oldest torch the code must run on: the lent GPUs' image has torch 2.11 / torchvision 0.26.
OLDEST_VENV ?= .venv-torch211
test-oldest: data  ## the fast suite on torch 2.11 (the GPUs' torch) in OLDEST_VENV beside .venv
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/pip install --quiet -c constraints.txt -e '.[test]'
	$(OLDEST_VENV)/bin/pip install --quiet --no-deps torch==2.11.0 torchvision==0.26.0
	WANDB_MODE=disabled $(OLDEST_VENV)/bin/pytest -m "not slow"

lint:  ## ruff lint and format check
	$(BIN)/ruff check anomaly_bench tests
	$(BIN)/ruff format --check anomaly_bench tests

format:  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix anomaly_bench tests
	$(BIN)/ruff format anomaly_bench tests

demo:  ## five methods compared on bundled digits (no download), every class, in minutes
	$(BIN)/python -m anomaly_bench.demo --classes $(DEMO_CLASSES) \
		$(if $(DEMO_MODELS),--models $(DEMO_MODELS)) --results $(DEMO_RESULTS) \
		$(if $(DEMO_EPOCHS),--epochs $(DEMO_EPOCHS))

report:  ## print the tables of the results store (RESULTS=results)
	$(BIN)/python -m anomaly_bench.report --results-dir $(or $(RESULTS),results) \
		$(foreach condition,$(WHERE),--where $(condition))

bench:  ## speed of every method, input paths, latent search, grid hours: results/bench.{md,json}; BENCH_ARGS=
	$(BIN)/python -m anomaly_bench.bench $(BENCH_ARGS)

reproduce-table1:  ## Table 1 (MNIST) grid + comparison; CLASSES= MODELS= EPOCHS= SEEDS= LAUNCHER= RESULTS= WHERE= CURVES=
	$(call reproduce,table1_mnist,1)

reproduce-table2:  ## Table 2 (Fashion-MNIST) grid + comparison; same variables
	$(call reproduce,table2_fmnist,2)

reproduce-table3:  ## Table 3 (CIFAR-10) grid + comparison; same variables
	$(call reproduce,table3_cifar10,3)

reproduce-table4:  ## Table 4 (MNIST rates): the Table 1 grid (runs already done are skipped) + rates
	$(call reproduce,table1_mnist,4)

reproduce-leave-one-out:  ## GANomaly's protocol on CIFAR-10 (CLASSES= anomalous classes) + its table
	$(BIN)/python -m anomaly_bench.train --multirun experiment=leave_one_out_cifar10 \
		$(subst data.normal_class=,data.anomalous_class=,$(GRID)); status=$$?; \
	$(BIN)/python -m anomaly_bench.report --results-dir $(RESULTS) \
		--where protocol=leave_one_out $(REPORT_ARGS) && exit $$status

gpu-wheels:  ## download the wheels a lent GPU lacks (hydra-core, omegaconf, antlr4) into .whl/
	mkdir -p .whl
	$(BIN)/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
		--implementation cp --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
		-d .whl hydra-core==1.3.8 omegaconf==2.3.0
	$(BIN)/python -m pip wheel -q --no-deps antlr4-python3-runtime==4.9.3 -w .whl

gpu-pack:  ## pack the data a GPU machine needs into .carry/, a part per device call (DATASETS=cifar10)
	$(BIN)/python -m anomaly_bench.gpu_session pack --datasets $(DATASETS)

gpu-session:  ## ON the lent GPU: install .whl, unpack .carry/, run the GPU queue to its deadline, rows into OUT=
	@if [ -d .whl ]; then python3 -m pip install -q --no-index --no-deps --no-compile \
		--no-cache-dir --upgrade --target /tmp/site .whl/*.whl; fi
	-PYTHONPATH=/tmp/site python3 -m anomaly_bench.gpu_session unpack
	PYTHONPATH=/tmp/site python3 -m anomaly_bench.gpu_session run --out $(OUT) \
		--minutes $(GPU_MINUTES) --jobs $(GPU_JOBS) $(GPU_QUEUE_ARGS) trainer=gpu \
		cpu_threads=1 data.eval_batch_size=1024

gpu-speed:  ## ON the lent GPU: the speed matrix (float32, TF32, bf16, channels_last, CUDA graphs; 1 and 14 jobs) into OUT=
	@if [ -d .whl ]; then python3 -m pip install -q --no-index --no-deps --no-compile \
		--no-cache-dir --upgrade --target /tmp/site .whl/*.whl; fi
	PYTHONPATH=/tmp/site python3 -m anomaly_bench.benchmarks.speed_matrix --profile \
		--seconds $(GPU_SPEED_SECONDS) --output $(OUT)/speed_matrix.json $(GPU_SPEED_ARGS) \
		trainer=gpu cpu_threads=1

results-page:  ## regenerate docs/results/ (the reference results) from its committed rows; trains nothing
	$(BIN)/python -m anomaly_bench.results_page

wandb-sync:  ## upload the offline W&B runs under logs/ and results/ (needs WANDB_API_KEY)
	find logs results -type d -name 'offline-run-*' -print0 2>/dev/null | xargs -0 -r $(BIN)/wandb sync
