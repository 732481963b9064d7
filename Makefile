# The two commands the README promises: `make demo` and `make test`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
SHARED  ?= $(abspath ../shared)
FIXTURES ?= $(abspath .fixtures)
# the debootstrap tarball and Go build cache outlive a checkout (a fresh CI clone reuses them)
export ASSAY_CACHE ?= $(HOME)/.cache/assay-fixtures
export ASSAY_FIXTURES := $(FIXTURES)

.PHONY: demo test tools venv fixtures lint pytest clean

tools:
	bash .ci/install-tools.sh

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
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

pytest: venv
	ASSAY_SHARED=$(SHARED) $(PY) -m pytest

# Everything CI runs: tools, the venv, the fixture images, linters, the whole suite.
test: tools venv fixtures lint pytest

# Build the demo images, load advisories, run the pipeline on the embedded default, print findings.
demo: tools venv fixtures
	SHARED=$(SHARED) VENV=$(VENV) bash deploy/demo.sh

clean:
	rm -rf $(VENV) .fixtures .demo
