# Two commands matter: `make run` and `make test`. Both set up .venv first (Python 3.11 and the package
# registries are all they need).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_DIR ?= runs/quickstart
RUN_STEPS ?= 400000
RUN_ARGS ?=

.PHONY: venv run test nbtest docs readme lab clean

$(VENV)/.installed: settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

## run: pre-train the world model on a small default (a few minutes on 2 cores) into runs/quickstart
run: venv
	$(BIN)/worldmodel pretrain --run-dir $(RUN_DIR) --steps $(RUN_STEPS) --log-every 10 --console-every 50 $(RUN_ARGS)

# The tests write checkpoints (a few GB in all) into a scratch TMPDIR that is removed when they end, pass or fail,
# so that repeated runs cannot fill the disk.
SCRATCH = scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && export TMPDIR="$$scratch"

## test: notebooks and package in sync, the notebook tests (run once, by the docs build: a failing cell fails it), the docs
## site opened in headless Chromium, the integration and fault-injection tests
test: venv
	$(SCRATCH) && $(BIN)/python tools/check_sync.py && $(BIN)/python tools/build_docs.py \
	  && $(BIN)/python -m pytest -q -rs --durations=12 tests

## nbtest: the notebook tests alone, as nbdev runs them (`make test` runs the same cells once, while building the docs)
nbtest: venv
	$(SCRATCH) && $(BIN)/nbdev_test --n_workers 1

## docs: the docs site from the notebooks (executed, nbdev-processed, rendered by Sphinx + MyST-NB) into _docs/
docs: venv
	$(BIN)/python tools/build_docs.py

## readme: README.md from nbs/index.ipynb
readme: venv
	$(BIN)/python tools/check_sync.py --fix

## lab: JupyterLab on 127.0.0.1:$(LAB_PORT), the notebooks open, the project's .venv as the kernel (LAB_ARGS: more options)
LAB_PORT ?= 8888
LAB_ARGS ?=
lab: venv
	$(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(LAB_PORT) --allow-root --ServerApp.root_dir=nbs $(LAB_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info _proc _docs
