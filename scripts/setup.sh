#!/usr/bin/env bash
# Installs what the build and tests need beyond the Rust toolchain. Safe to run repeatedly; it
# only installs what is missing. Run as root (CI and the dev machines are root).
set -euo pipefail
need=()
command -v python3 >/dev/null || need+=(python3)
# The web pages' browser tests (tests/it/web.rs) drive headless Chromium through chromedriver.
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
# The OpenAPI contract test (tests/it/openapi.rs) checks the served document with a real validator.
if ! python3 -c 'import openapi_spec_validator' 2>/dev/null; then
  python3 -m pip --version >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
  }
  # Debian's own python3 refuses system-wide pip installs unless told this is intended.
  PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet 'openapi-spec-validator==0.9.0'
fi
