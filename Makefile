# Mesa: `make run` serves the org on http://127.0.0.1:3001, `make test` runs every check.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell cksum pyproject.toml | cut -d' ' -f1)
RUN_STAMP := $(VENV)/.run-$(HASH)
DEV_STAMP := $(VENV)/.dev-$(HASH)
export PATH := $(CURDIR)/.tools/npm/node_modules/.bin:$(PATH)

.PHONY: run test lint unit browser-deps container-deps cli-deps test-cli bench bench-scale images clean

$(RUN_STAMP):
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check .
	touch $@

$(DEV_STAMP):
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check ".[dev]"
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/python -m mesa.serve

# Debian's podman (runc: crun fails on cgroup v1 hybrid hosts), a static busybox for the local test image and
# debootstrap for the Debian base the docker/ images build on (docker/make-base.sh: no registry needed).
container-deps:
	@command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 && test -x /bin/busybox && test -x /usr/sbin/debootstrap || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc fuse-overlayfs slirp4netns uidmap busybox-static debootstrap >/dev/null; }

# Debian's chromium for the Playwright browser tests (no browser download).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The real agent CLIs, pinned in docker/clis/ (the worker image installs the same files; an unpinned install
# can resolve a stale version). Bump the stamp's number when the pins change. `npm install`, not `npm ci`:
# ci refuses this lock (opencode-ai's tarball lists platform packages its registry entry does not).
cli-deps:
	@test -f .tools/npm/.installed-4 || { mkdir -p .tools/npm && cp docker/clis/package.json docker/clis/package-lock.json .tools/npm/ \
		&& npm install --silent --no-audit --no-fund --prefix .tools/npm >/dev/null && touch .tools/npm/.installed-4; }

test-cli: $(DEV_STAMP) cli-deps
	$(BIN)/pytest -q -m cli

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run >/dev/null

unit: $(DEV_STAMP)
	$(BIN)/pytest -q

test: $(DEV_STAMP) browser-deps container-deps cli-deps lint
	$(BIN)/pytest -q

# The worker image agent runs use (localhost/mesa-worker:latest, the container sandbox's default) and Mesa's
# own image, with podman (ENGINE=docker for Docker). BASE defaults to debian:trixie-slim from a registry;
# `make images BASE=$(docker/make-base.sh)` builds without one.
ENGINE ?= podman
BASE ?= docker.io/library/debian:trixie-slim
images:
	$(ENGINE) build -f docker/worker.Dockerfile --build-context runners=runners --build-arg BASE=$(BASE) -t localhost/mesa-worker:latest docker
	$(ENGINE) build -f docker/Dockerfile --build-arg BASE=$(BASE) -t localhost/mesa:latest .

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

# The scale-mode soak on PostgreSQL (+ Redis when it answers): 2 web workers, 3 schedulers, RUNS noop runs.
RUNS ?= 1000
bench-scale: $(DEV_STAMP)
	$(BIN)/python -m bench --scale --runs $(RUNS)

clean:
	rm -rf $(VENV) .tools .test-mesa.db*
