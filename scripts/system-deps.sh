#!/usr/bin/env bash
# Debian packages the test suite needs: PostgreSQL server binaries, Chromium and a CJK font
# (and wrk and nginx, the load tool and the proxy of `make bench`'s concurrent run).
# Installs only what is missing; needs root (or sudo) the first time on a new machine.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" || missing+=(fonts-wqy-microhei)
command -v runuser >/dev/null || missing+=(util-linux)
command -v wrk >/dev/null || missing+=(wrk)  # make bench: 50 concurrent clients
[ -x /usr/sbin/nginx ] || missing+=(nginx)  # make bench: in front of jindu serve, as deployed
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root to apt-get install ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
