#!/usr/bin/env bash
# Installs what building and testing spearguard needs on a fresh Debian machine (run as root).
# Idempotent: packages already present are skipped, so it costs nothing on a prepared machine.
set -euo pipefail

# Build: a C compiler (zlib-rs, later ring/sqlite) and pkg-config. Test: python3 runs the
# scenario generator. postfix: the milter test starts its own throwaway instance
# (scripts/postfix/). Later issues add swaks, clamav-daemon, postgresql, chromium.
PACKAGES=(build-essential pkg-config python3 postfix)

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
  # Postfix: no system configuration, so the package has nothing to start; the tests run
  # their own instances on loopback ports (scripts/postfix/start.sh).
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The tests never use the system Postfix: if installing it just started it, stop it
  # (an instance that was already there and running is left alone).
  if [[ " ${missing[*]} " == *" postfix "* ]] && /usr/sbin/postfix status >/dev/null 2>&1; then
    echo "setup: stopping the system Postfix the package started (tests use their own)"
    /usr/sbin/postfix stop >/dev/null 2>&1 || true
  fi
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo not found: install the Rust toolchain (rustup, Rust >= 1.95)" >&2
  exit 1
fi
