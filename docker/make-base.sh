#!/bin/sh
# Makes the Debian base image locally, without a container registry: debootstrap (minbase) from a Debian
# mirror, then `podman import` (or `docker import` with ENGINE=docker). Prints the image name.
#
#   docker/make-base.sh [SUITE]      # default trixie; reuses the image when it already exists
#
# The tag carries a checksum of this script, so a change here makes a new image and an unchanged
# script reuses the one in the engine's storage (the tests call this on every run).
set -eu
SUITE=${1:-trixie}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ENGINE=${ENGINE:-podman}
sum=$(cksum <"$0" | cut -d' ' -f1)
IMAGE=localhost/mesa-debian-base:$SUITE-$sum
if "$ENGINE" image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "$IMAGE"
    exit 0
fi
command -v debootstrap >/dev/null || { echo "make-base.sh: needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
root=$(mktemp -d "${TMPDIR:-/tmp}/mesa-base.XXXXXX")
trap 'rm -rf "$root"' EXIT
# minbase: apt, dpkg and the required packages only (what debian:*-slim starts from).
debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1 || { cat "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
# What slim images leave out: downloaded packages, package lists, docs and man pages.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
tar -C "$root" -c . | "$ENGINE" import -q --change 'CMD ["/bin/bash"]' - "$IMAGE" >/dev/null
echo "$IMAGE"
