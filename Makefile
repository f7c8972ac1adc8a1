# Two commands on a fresh machine with only Python: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint messages bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## run the whole job on bundled data (loopback HTTP and SMTP)
	$(BIN)/veille demo $(if $(DIGEST_LANG),--lang $(DIGEST_LANG))

test: $(STAMP)  ## run the test suite
	$(BIN)/python -m pytest

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/python -m ruff check veille tests bench
	$(BIN)/python -m mypy

messages: $(STAMP)  ## extract the strings readers see and update the French catalog (then translate the new ones)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k NC_:1c,2 --no-location --sort-output -o veille/locale/veille.pot .
	$(BIN)/pybabel update -i veille/locale/veille.pot -d veille/locale -D veille -l fr --width 120

bench: $(STAMP)  ## benchmarks (not tests): see bench/README.md
	QUICK=$(QUICK) $(BIN)/python -m bench

clean:
	rm -rf $(VENV) reports/20* reports/demo .pytest_cache .mypy_cache .ruff_cache
