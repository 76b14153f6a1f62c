# The README's commands. `make run` serves on 127.0.0.1 with zero setup; `make test` runs the suite
# against PostgreSQL and Redis on localhost. Both first make the machine ready
# (scripts/setup-machine.sh: Debian packages when missing, services when down; silent otherwise).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test bench venv clean setup-run setup-test

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	env -u LD_PRELOAD $(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

venv: $(VENV)/.installed

run: export SBF_PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
setup-run:
	@scripts/setup-machine.sh run

setup-test:
	@scripts/setup-machine.sh test

run: setup-run venv
	SBF_SETTINGS=development $(PY) -m flask --app wsgi migrate
	SBF_SETTINGS=development $(PY) -m flask --app wsgi demo-data
	SBF_SETTINGS=development $(PY) -m flask --app wsgi serve --host $(HOST) --port $(PORT)

test: setup-test venv
	$(PY) -m pytest $(PYTEST_ARGS)

bench: venv
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
