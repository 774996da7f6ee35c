#!/usr/bin/env bash
# Installs what building and testing spearguard needs on a fresh Debian machine (run as root).
# Idempotent: packages already present are skipped, so it costs nothing on a prepared machine.
set -euo pipefail

# Build: a C compiler (zlib-rs, later ring/sqlite) and pkg-config. Test: python3 runs the
# scenario generator. Later issues add postfix, swaks, clamav-daemon, postgresql, chromium.
PACKAGES=(build-essential pkg-config python3)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages ${missing[*]}; run as root (apt-get install)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found: install the Rust toolchain (rustup, Rust >= 1.95)" >&2
  exit 1
fi
