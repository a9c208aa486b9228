#!/usr/bin/env bash
# Install the Debian packages the tests need (the lab's daemons in test/lab, and redis-server for
# the Redis that npm test starts when none is reachable), when they are missing.
#
#   bash scripts/install-lab-deps.sh           as root (a user: with sudo in front)
#   bash scripts/install-lab-deps.sh --check   exit 0 when everything is there, else 1 and print
#                                              the missing packages on one line (anyone may run it)
#
# npm test runs it by itself (test/support/lab-packages.ts). Idempotent and quiet: prints nothing
# when everything is (or gets) installed. Runs `apt-get update` once, and only when something is
# missing. Debian 12 (bookworm) or later.
#
# The lab starts its own nginx, HAProxy, Squid, tinyproxy and Redis on ephemeral loopback ports, so the
# system services these packages bring must not run: they are kept from starting while installing
# (policy-rc.d) and, for packages this script installed, stopped and disabled afterwards; the script
# fails if ports 80, 3128, 8888 or 6379, free before, are taken after.
set -euo pipefail

# package → what the lab uses from it
#   nginx      /usr/sbin/nginx
#   haproxy    /usr/sbin/haproxy
#   squid      /usr/sbin/squid, /usr/lib/squid/basic_ncsa_auth
#   tinyproxy  /usr/bin/tinyproxy
#   openssl    /usr/bin/openssl (certificates, htpasswd lines)
#   util-linux /usr/bin/setpriv (run daemons unprivileged, die with the test process)
#   redis-server /usr/bin/redis-server (the tests' own Redis on a loopback port)
PACKAGES=(nginx haproxy squid tinyproxy openssl util-linux redis-server)
# package → the program that shows it is there
declare -A BINARY=([nginx]=nginx [haproxy]=haproxy [squid]=squid [tinyproxy]=tinyproxy [openssl]=openssl [util-linux]=setpriv [redis-server]=redis-server)
# package → system service it installs, and the port that service listens on by default
declare -A SERVICE_PORT=([nginx]=80 [squid]=3128 [tinyproxy]=8888 [haproxy]= [redis-server]=6379)
SELF="bash ${BASH_SOURCE[0]}"

die() {
  echo "install-lab-deps: $*" >&2
  exit 1
}

# Whether a package's program is there (sbin included: not on a user's PATH).
present() {
  PATH="$PATH:/usr/sbin:/sbin" command -v "${BINARY[$1]}" >/dev/null 2>&1 || return 1
  [ "$1" != squid ] || [ -x /usr/lib/squid/basic_ncsa_auth ]
}

# Whether something LISTENs on TCP port $1 (any address), from /proc: no ss/netstat needed.
listening() {
  local hex
  hex=$(printf ':%04X' "$1")
  awk -v p="$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

stop_service() {
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now --quiet "$1" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$1" ]; then
    "/etc/init.d/$1" stop >/dev/null 2>&1 || true
    update-rc.d "$1" disable >/dev/null 2>&1 || true
  fi
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  present "$pkg" || missing+=("$pkg")
done

if [ "${1-}" = --check ]; then
  [ "${#missing[@]}" -eq 0 ] && exit 0
  echo "${missing[*]}"
  exit 1
fi
[ "$#" -eq 0 ] || die "unknown argument $1: $SELF [--check]"

if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and apt-get is not available (Debian/Ubuntu only): install them with this system's package manager"
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; installing needs root: sudo $SELF"

  busy_before=()
  for port in 80 3128 8888 6379; do
    if listening "$port"; then busy_before+=("$port"); fi
  done

  log=$(mktemp)
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  cleanup() {
    if [ "$own_policy" -eq 1 ]; then rm -f "$policy"; fi
    rm -f "$log"
  }
  trap cleanup EXIT
  # Keep invoke-rc.d / deb-systemd-invoke from starting the services while installing, unless a
  # policy is already in place (Docker images have one that does the same).
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# install-lab-deps.sh: no service starts while installing\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
  fi

  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get update -qq >"$log" 2>&1; then
    cat "$log" >&2
    die "apt-get update failed (no package source reachable?): fix the sources in /etc/apt, then run $SELF again"
  fi
  if ! apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    die "apt-get install ${missing[*]} failed"
  fi

  # If a postinst started its service anyway (no policy honoured), stop and disable it.
  for pkg in "${missing[@]}"; do
    if [ -n "${SERVICE_PORT[$pkg]+set}" ]; then stop_service "$pkg"; fi
  done
  for pkg in "${missing[@]}"; do
    port=${SERVICE_PORT[$pkg]:-}
    [ -n "$port" ] || continue
    case " ${busy_before[*]-} " in *" $port "*) continue ;; esac
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      listening "$port" || continue 2
      sleep 0.5
    done
    die "$pkg is still listening on port $port after 'stop'; stop it by hand (systemctl disable --now $pkg)"
  done
fi

for pkg in "${PACKAGES[@]}"; do
  present "$pkg" || die "${BINARY[$pkg]} not found after installing $pkg"
done
