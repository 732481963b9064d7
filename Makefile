# The two commands the README promises: `make demo` and `make test`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
SHARED  ?= $(abspath ../shared)
FIXTURES ?= $(abspath .fixtures)
# the debootstrap tarball and Go build cache outlive a checkout (a fresh CI clone reuses them)
export ASSAY_CACHE ?= $(HOME)/.cache/assay-fixtures
export ASSAY_FIXTURES := $(FIXTURES)

.PHONY: demo test tools venv fixtures lint pytest clean lock

tools:
	bash .ci/install-tools.sh

# Exact versions with hashes from the lock (`make lock`), so every machine installs what CI tested;
# then the project itself, without resolving anything again.
$(VENV)/.installed: pyproject.toml requirements/dev.lock
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --require-hashes --no-deps -r requirements/dev.lock
	@# setuptools warns on every editable install that it is one; nothing to act on
	PYTHONWARNINGS=ignore::UserWarning $(VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	$(VENV)/bin/pip check
	touch $@

venv: $(VENV)/.installed

# rebuilt when the builder changes; manifest.json is written last, so it marks a finished build
$(FIXTURES)/manifest.json: tests/fixtures/build-images.sh
	$(MAKE) tools
	bash tests/fixtures/build-images.sh

$(FIXTURES)/rpm/manifest.json: tests/fixtures/build-rpm-images.sh
	$(MAKE) tools
	bash tests/fixtures/build-rpm-images.sh

# planted secrets and insecure content on the cached Debian base (needs build-images.sh's tarball)
$(FIXTURES)/content/manifest.json: tests/fixtures/build-content-image.sh $(FIXTURES)/manifest.json
	bash tests/fixtures/build-content-image.sh

fixtures: $(FIXTURES)/manifest.json $(FIXTURES)/rpm/manifest.json $(FIXTURES)/content/manifest.json

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) .ci/long_functions.py services schemas
	@find services schemas -name '*.py' -not -path '*/proto/*' | xargs wc -l | awk '$$2 != "total" && $$1 > 400 {print $$2 ": " $$1 " lines (over 400)"; bad = 1} END {exit bad}'

# A temporary root of the run's own, emptied first: never another run's leftovers in /tmp
pytest: venv
	ASSAY_SHARED=$(SHARED) $(PY) -m pytest --basetemp=$(CURDIR)/.pytest-tmp

# Everything CI runs: tools, the venv, the fixture images, linters, the whole suite.
test: tools venv fixtures lint pytest

# Build the demo images, load advisories, run the pipeline on the embedded default, print findings.
demo: tools venv fixtures
	SHARED=$(SHARED) VENV=$(VENV) bash deploy/demo.sh

# Refresh both locks from pyproject.toml (and requirements/build.in): the runtime lock is what the
# container image installs; the dev lock adds every extra, constrained to the runtime lock's versions.
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 --custom-compile-command 'make lock'
lock:
	test -x $(VENV)/bin/uv || $(MAKE) venv
	$(UV_COMPILE) pyproject.toml requirements/build.in -o requirements/runtime.lock
	$(UV_COMPILE) pyproject.toml requirements/build.in --all-extras -c requirements/runtime.lock -o requirements/dev.lock

clean:
	rm -rf $(VENV) .fixtures .demo
