#!/usr/bin/env bash
# Installs every Debian package that building and testing tuned needs.
# Idempotent and non-interactive; run as root (or with sudo) on Debian 12.
set -euo pipefail

packages=(
  libgsl-dev        # GSL 2.7: fits, statistics, RNG, least squares
  libopenblas-dev   # OpenBLAS: the CBLAS that GSL's BLAS calls bind to
  libsqlite3-dev    # SQLite for the store
  pkg-config
  librsvg2-bin      # rsvg-convert: tests rasterise the SVG plots
  sqlite3           # the daemon tests read the store with the sqlite3 CLI
  python3           # command-workload test fixtures and the quickstart are Python scripts
  util-linux        # prlimit (per-segment memory/CPU limits of command workloads), setpriv (tests)
  systemd           # systemd-analyze verify of scripts/tuned.service, systemd-sysusers (install.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
