# Two commands do all set-up on a fresh machine (Python >= 3.10 with venv):
#   make demo   -> creates .venv, installs the package, runs the main job on built-in data
#   make test   -> creates .venv, installs the package with test extras, runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_OUT ?= demo_out
PYTEST_ARGS ?=

.PHONY: demo test test-quick bench venv clean

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	$(PY) -m lip2audspec.cli.main compile
	touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) -m lip2audspec.cli.main demo --out $(DEMO_OUT)

test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

test-quick: $(VENV)/.installed
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_auditory.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) build *.egg-info
