# The worker image: what an agent run executes in when its sandbox is `container`
# (runners/sandboxes/container.py runs it with a read-only root, a tmpfs home, no capabilities,
# uid 1000 and the run's worktree at /workspace).
#
#   podman build -f docker/worker.Dockerfile --build-context runners=runners -t localhost/mesa-worker:latest docker/
#
# RUNNERS (the named context `runners`, Mesa's runners/ directory): the Codex bridge, a stdlib-only MCP server
# that a Claude run with Codex as its tool starts (runners/claude_code.py), installed as mesa-codex-mcp.
# BASE: any Debian trixie (slim) image; the tests pass one made locally by docker/make-base.sh.
# CLIS: where the pinned agent CLIs come from: `npm` (default) installs docker/clis/ (exact pins + lock)
# from the npm registry; `local` copies an existing install mounted at /mesa-clis (the one
# `make cli-deps` made): podman build --volume "$PWD/.tools/npm:/mesa-clis:ro" --build-arg CLIS=local ...
ARG BASE=docker.io/library/debian:trixie-slim
ARG CLIS=npm

FROM ${BASE} AS system
# trixie's nodejs is 20.x: gemini-cli needs >= 20 (bookworm has 18). gh is Debian's package.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates curl git gh nodejs openssh-client python3 \
    && rm -rf /var/lib/apt/lists/*

# One stage for both sources (a stage chosen by `FROM clis-${CLIS}` is skipped by podman's unused-stage
# pruning when CLIS keeps its default). npm only lives in this stage; the image gets /opt/mesa-clis.
FROM system AS clis
ARG CLIS
# CLIS_KEY (e.g. a checksum of the mounted install) only makes a changed install miss the build cache.
ARG CLIS_KEY=
# Behind a TLS-intercepting proxy: its CA bundle, mounted into the build (as PIP_CERT in docker/Dockerfile).
ARG NODE_EXTRA_CA_CERTS
COPY clis/package.json clis/package-lock.json /opt/mesa-clis/
# npm install with the lock (npm ci refuses it: opencode-ai's tarball lists platform packages its registry
# entry does not).
RUN set -e; echo "clis from ${CLIS} ${CLIS_KEY}"; \
    if [ "$CLIS" = local ]; then \
        test -d /mesa-clis/node_modules || { echo "CLIS=local needs --volume <npm prefix>:/mesa-clis:ro" >&2; exit 1; }; \
        cp -a /mesa-clis/node_modules /opt/mesa-clis/node_modules; \
    else \
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm; \
        npm install --no-audit --no-fund --prefix /opt/mesa-clis; \
    fi

FROM system
COPY --from=clis /opt/mesa-clis /opt/mesa-clis
COPY --from=runners --chmod=0755 codex_bridge.py /usr/local/bin/mesa-codex-mcp
# The home is a tmpfs at run time (read-only root), so nothing the CLIs need may live in it. Mode 1777:
# podman gives a tmpfs mounted on an existing directory that directory's mode but root as owner, so a
# 0700 home would be unwritable for uid 1000 under the sandbox's tmpfs.
RUN useradd --uid 1000 --user-group --no-create-home --home-dir /home/agent --shell /bin/bash agent \
    && install -d -o agent -g agent -m 1777 /home/agent \
    && install -d -o agent -g agent -m 0755 /workspace
ENV PATH=/opt/mesa-clis/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/home/agent \
    DISABLE_AUTOUPDATER=1
USER agent
WORKDIR /workspace
CMD ["bash"]
