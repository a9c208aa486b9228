#!/usr/bin/env bash
# Build the container image from the Dockerfile with buildah, then smoke-run it.
#
#   bash scripts/build-image.sh [--tag NAME] [--no-smoke]        (as root)
#
# buildah runs without a daemon: vfs storage and chroot isolation, which work on a plain machine
# or inside a container. The Dockerfile's base image (ARG NODE_IMAGE, node:20-bookworm-slim) comes
# from the local store, else from its registry, else — no registry reachable — it is assembled
# here and tagged with that name: Debian bookworm (minbase) by debootstrap from Debian's mirror
# (DEBIAN_MIRROR), plus this machine's Node 20 (node and npm) and a node user, uid 1000, as the
# official image has. Then `buildah bud` builds the Dockerfile, the image size is printed, and
# scripts/smoke-image.js runs `triage explain`, `triage kb check`, the worker and the API inside
# the image as uid 1000 with a read-only root filesystem, and checks their answers.
#
# Environment: IMAGE_STORE (buildah's storage, default /var/lib/gateway-triage/containers),
# DEBIAN_MIRROR (default http://deb.debian.org/debian), SMOKE_REDIS_URL (a Redis for the worker
# check; without it the smoke run starts a redis-server of its own).
set -euo pipefail
cd "$(dirname "$0")/.."

TAG=gateway-triage:0.1.0
SMOKE=1
while [ "$#" -gt 0 ]; do
  case "$1" in
    --tag) TAG=${2:?--tag takes a name}; shift 2 ;;
    --no-smoke) SMOKE=0; shift ;;
    *) echo "build-image: unknown argument $1: bash scripts/build-image.sh [--tag NAME] [--no-smoke]" >&2; exit 2 ;;
  esac
done

die() {
  echo "build-image: $*" >&2
  exit 1
}
say() { echo "build-image: $*"; }

command -v buildah >/dev/null 2>&1 || die "buildah is not installed: apt-get install buildah"
[ "$(id -u)" -eq 0 ] || die "run it as root (buildah's vfs storage and chroot isolation, and the smoke run's mounts): sudo bash scripts/build-image.sh"

STORE=${IMAGE_STORE:-/var/lib/gateway-triage/containers}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
export BUILDAH_ISOLATION=chroot
B=(buildah --root "$STORE/storage" --runroot "$STORE/run" --storage-driver vfs)

# The base image the Dockerfile names (ARG NODE_IMAGE=… before the first FROM), fully qualified.
base=$(sed -n 's/^ARG NODE_IMAGE=\(.*\)$/\1/p' Dockerfile | head -n 1)
[ -n "$base" ] || die "the Dockerfile has no ARG NODE_IMAGE=…"
case "$base" in */*) qualified=$base ;; *) qualified=docker.io/library/$base ;; esac

has_image() { "${B[@]}" inspect --type image "$1" >/dev/null 2>&1; }

# Debian bookworm + this machine's Node 20, tagged as the Dockerfile's base.
assemble_base() {
  local node npm_dir rootfs ctr mnt version
  node=$(readlink -f "$(command -v node)") || die "node is not installed"
  version=$("$node" -p 'process.versions.node')
  case "$version" in 20.*) ;; *) die "the local base needs Node 20 on this machine, found $version" ;; esac
  npm_dir="$(npm root -g)/npm"
  [ -f "$npm_dir/package.json" ] || die "npm is not installed beside node ($npm_dir)"
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null || die "cannot install debootstrap: apt-get install debootstrap"
  fi
  rootfs=$(mktemp -d /var/tmp/gateway-triage-base.XXXXXX)
  trap 'rm -rf "$rootfs"' RETURN
  say "no registry answers for $qualified: assembling it from Debian bookworm ($MIRROR) and Node $version"
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 || { tail -n 20 "$rootfs.log" >&2; die "debootstrap failed (log above): check that $MIRROR is reachable, or set DEBIAN_MIRROR"; }
  rm -f "$rootfs.log"
  install -D -m 755 "$node" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log
  ctr=$("${B[@]}" from scratch)
  mnt=$("${B[@]}" mount "$ctr")
  # Device nodes stay out: a runtime provides /dev.
  tar -C "$rootfs" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . | tar -C "$mnt" -xf -
  "${B[@]}" umount "$ctr" >/dev/null
  "${B[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env NODE_VERSION="$version" --cmd node \
    --label org.opencontainers.image.description="Debian bookworm (debootstrap minbase) + Node $version, assembled by scripts/build-image.sh" "$ctr"
  "${B[@]}" commit --quiet --rm "$ctr" "$qualified" >/dev/null
}

if has_image "$qualified"; then
  say "base $qualified: in the local store"
elif timeout 90 "${B[@]}" pull --quiet "$qualified" >/dev/null 2>&1; then
  say "base $qualified: pulled"
else
  assemble_base
  say "base $qualified: assembled"
fi

# npm inside the build trusts the CA that npm trusts here (a TLS-inspecting proxy's, say) and uses
# the same registry: both are mounted for the RUN steps only, never part of a layer of the image.
mounts=()
cafile=$(npm config get cafile 2>/dev/null || true)
case "$cafile" in null | undefined) cafile= ;; esac
cafile=${cafile:-${NODE_EXTRA_CA_CERTS:-}}
if [ -n "$cafile" ] && [ -f "$cafile" ]; then
  npmrc=$(mktemp)
  printf 'cafile=/run/build-ca.crt\nregistry=%s\n' "$(npm config get registry)" >"$npmrc"
  mounts+=(--volume "$cafile:/run/build-ca.crt:ro" --volume "$npmrc:/usr/local/etc/npmrc:ro")
  say "npm in the build trusts $cafile (mounted for the build only)"
fi

# No --layers: with vfs every cached layer is a full copy of the root filesystem, which costs more
# than it saves; each stage is committed once.
say "building $TAG from the Dockerfile"
start=$(date +%s)
"${B[@]}" bud --isolation chroot --pull=never "${mounts[@]}" --tag "$TAG" --file Dockerfile . >"$STORE/build.log" 2>&1 || { tail -n 40 "$STORE/build.log" >&2; die "buildah bud failed (the last lines are above; the whole log: $STORE/build.log)"; }
say "built $TAG in $(($(date +%s) - start)) s"
# Earlier builds of the tag, and the build stage, are left untagged: drop them (vfs keeps full copies).
"${B[@]}" rmi --prune >/dev/null 2>&1 || true

size=$("${B[@]}" images --format '{{.Size}}' "$TAG" | head -n 1)
ctr=$("${B[@]}" from --pull=never "$TAG")
trap '"${B[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
mnt=$("${B[@]}" mount "$ctr")
bytes=$(du -sb "$mnt" | cut -f1)
say "image size: $size ($(("$bytes" / 1024 / 1024)) MiB unpacked; /app/node_modules $(du -sm "$mnt/app/node_modules" | cut -f1) MiB)"

[ "$SMOKE" -eq 1 ] || exit 0
node scripts/smoke-image.js "$mnt"
