#!/usr/bin/env bash
# Installs what council needs on a fresh Debian machine, then stops: uv (from PyPI, into
# .tools/), the locked virtual environment, and system packages for the given purpose.
#   scripts/bootstrap.sh run    fonts for Chinese PDFs
#   scripts/bootstrap.sh test   the same, plus Chromium and poppler-utils for browser and PDF tests
#   scripts/bootstrap.sh bench  the test packages, plus wrk for `make bench` (python -m tests.bench)
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"
UV_VERSION="0.13.9"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else return 1
  fi
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    say "not Debian: please install ${missing[*]} yourself"; return 0
  fi
  say "installing system packages: ${missing[*]}"
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    say "could not install ${missing[*]} (no root?): the parts that need them will say so"
  fi
}

# 1. uv
if command -v uv >/dev/null 2>&1; then
  UV=$(command -v uv)
elif [ -x .tools/bin/uv ]; then
  UV=.tools/bin/uv
else
  say "installing uv ${UV_VERSION} into .tools/"
  if ! python3 -m venv .tools >/dev/null 2>&1; then
    rm -rf .tools
    apt_install python3-venv
    python3 -m venv .tools
  fi
  .tools/bin/pip install -q --disable-pip-version-check "uv==${UV_VERSION}"
  UV=.tools/bin/uv
fi

# 2. the virtual environment, exactly as locked
say "syncing .venv from uv.lock"
"$UV" sync --frozen --quiet

# 3. system packages
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  apt_install fonts-wqy-microhei fontconfig
fi
if [ "$purpose" = test ] || [ "$purpose" = bench ]; then
  apt_install chromium poppler-utils nodejs
fi
if [ "$purpose" = bench ]; then
  apt_install wrk
fi
