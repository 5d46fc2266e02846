#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain, from the package registries by name.
# Idempotent: a second run with nothing changed does nothing. Works as root on a fresh machine.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
js="$root/tests/js"

say() { printf 'install-test-deps: %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }

# --- Node.js and npm -------------------------------------------------------------------------------------------
# The machine image ships them; Debian's packages are only a fallback for a machine without.
if ! have node || ! have npm; then
  if have apt-get; then
    say "node/npm missing: installing Debian's nodejs and npm"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
  have node && have npm || { say "node and npm are required (tests/js)"; exit 1; }
fi

# --- npm packages of tests/js (versions pinned in package.json, exact tree in package-lock.json) ------------------
# Skipped when node_modules was installed from the same lockfile by the same node.
stamp_file="$js/node_modules/.agw-install-stamp"
stamp="$(cat "$js/package.json" "$js/package-lock.json" "$js/.npmrc" | sha256sum | cut -d' ' -f1) node-$(node --version)"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] \
   && [ -f "$js/node_modules/yaml-language-server/package.json" ]; then
  say "tests/js/node_modules is up to date"
else
  say "installing tests/js packages (npm ci)"
  npm_ci() { (cd "$js" && npm ci --no-audit --no-fund --loglevel=error); }
  npm_ci || { say "npm ci failed; trying once more"; sleep 5; npm_ci; }
  printf '%s\n' "$stamp" > "$stamp_file"
fi

# --- Python packages ---------------------------------------------------------------------------------------------
# MORE TEST DEPENDENCIES GO HERE. Exact versions only, e.g. the Python MCP client:  PY_PACKAGES=(mcp==2.3.0)
# pre-commit: tests/integrations.rs runs the agw-check hook (.pre-commit-hooks.yaml) for real.
PY_PACKAGES=(pre-commit==4.7.0)
if [ "${#PY_PACKAGES[@]}" -gt 0 ]; then
  missing=()
  for spec in "${PY_PACKAGES[@]}"; do
    name="${spec%%==*}"; want="${spec#*==}"
    got="$(python3 -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')"
    [ "$got" = "$want" ] || missing+=("$spec")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Python packages: ${missing[*]}"
    python3 -m pip install --disable-pip-version-check -q "${missing[@]}"
  fi
fi

# --- Debian packages ---------------------------------------------------------------------------------------------
# Same pattern for tools from Debian: DEB_PACKAGES=(name ...), installed only when missing.
# zsh and fish: tests/integrations.rs checks that `agw completions zsh|fish` parse (`zsh -n`,
# `fish -n`); groff-base: that `agw man` is well-formed roff (`groff -man -z -ww`).
DEB_PACKAGES=(zsh fish groff-base)
if [ "${#DEB_PACKAGES[@]}" -gt 0 ]; then
  missing=()
  for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
