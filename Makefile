# Two commands on a fresh machine with only Python: `make demo` and `make test`.
PYTHON ?= python3
# the Docker image's Python, for `make constraints`
CONSTRAINTS_PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint messages bench constraints clean

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

constraints:  ## pin the image's dependencies: resolve '.[postgres]' in a fresh Python 3.11 venv into constraints.txt
	rm -rf .constraints-venv
	$(CONSTRAINTS_PYTHON) -m venv .constraints-venv
	.constraints-venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' # the image's
	.constraints-venv/bin/python -m pip install --quiet --upgrade pip
	.constraints-venv/bin/python -m pip install --quiet '.[postgres]'
	{ echo '# The versions the Docker image installs (pip install -c constraints.txt ".[postgres]"), resolved for'; \
	  echo '# Python 3.11 on Linux by `make constraints` from the lower bounds of pyproject.toml. Do not edit.'; \
	  .constraints-venv/bin/python -m pip freeze --exclude veille; } > constraints.txt
	rm -rf .constraints-venv

clean:
	rm -rf $(VENV) .constraints-venv reports/20* reports/demo .pytest_cache .mypy_cache .ruff_cache
