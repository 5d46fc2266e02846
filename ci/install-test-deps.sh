#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain, from the package registries by name:
#   - npm packages of tests/js (exact tree from package-lock.json) into tests/js/node_modules;
#   - npm packages of the VS Code extension (editors/vscode, the same way) into its node_modules;
#   - Python tools (pre-commit) into a virtual environment under the build directory
#     (target/test-tools), never into the system Python;
#   - Debian packages (zsh, fish, groff-base) only when run as root; otherwise each missing one is
#     reported with the command that installs it.
# Idempotent: a second run with nothing changed does nothing. Every step says what it does, and a
# step that fails says what failed and what to do.
#
# With CI=true or AGW_REQUIRE_PARTNERS=1 a partner that cannot be installed is an error (exit 1);
# otherwise it is reported and the tests that need it are reported as skipped.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
js="$root/tests/js"
vscode="$root/editors/vscode"
tools="${CARGO_TARGET_DIR:-$root/target}/test-tools"

say() { printf 'install-test-deps: %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
trap 'say "FAILED (line $LINENO): $BASH_COMMAND"' ERR

require=0
if [ "${CI:-}" = true ] || [ "${AGW_REQUIRE_PARTNERS:-}" = 1 ]; then require=1; fi
is_root=0
if [ "$(id -u)" = 0 ]; then is_root=1; fi
missing_partners=()

# A partner that is not there: an error where partners are required, a reported skip elsewhere.
partner_missing() {
  local what="$1" fix="$2"
  missing_partners+=("$what")
  if [ "$require" = 1 ]; then
    say "ERROR: not installed: $what (this run requires every test partner); $fix"
  else
    say "skip: not installed: $what (the tests that need it are reported as skipped); $fix"
  fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    say "apt-get update"
    apt-get update -qq || { say "apt-get update failed (no network to Debian's packages?)"; return 1; }
    apt_updated=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- Node.js and npm -------------------------------------------------------------------------------------------
# The machine image usually ships them; Debian's packages are the fallback, as root.
if ! have node || ! have npm; then
  if [ "$is_root" = 1 ] && have apt-get; then
    say "node/npm missing: installing Debian's nodejs and npm"
    apt_install nodejs npm || true
  fi
fi
if have node && have npm; then
  # --- npm packages (versions pinned in package.json, exact tree in package-lock.json) ------------------------
  # tests/js: the test partners; editors/vscode: the extension's compiler, language client and vsce, with which
  # tests/vscode.rs builds, unit-tests and packages it. A folder is skipped when its node_modules was installed
  # from the same lockfile by the same node (MARKER is a package its tree must hold).
  npm_install() {
    local dir="$1" marker="$2" name="${1#"$root"/}"
    local stamp_file="$dir/node_modules/.agw-install-stamp"
    local stamp
    stamp="$(cat "$dir/package.json" "$dir/package-lock.json" "$dir/.npmrc" | sha256sum | cut -d' ' -f1) node-$(node --version)"
    if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] \
       && [ -f "$dir/node_modules/$marker/package.json" ]; then
      say "$name/node_modules is up to date (node $(node --version))"
      return
    fi
    say "installing $name packages (npm ci, node $(node --version))"
    npm_ci() { (cd "$dir" && npm ci --no-audit --no-fund --no-update-notifier --loglevel=error); }
    if npm_ci || { say "npm ci failed; trying once more in 5 s"; sleep 5; npm_ci; }; then
      printf '%s\n' "$stamp" > "$stamp_file"
    else
      partner_missing "the npm packages of $name" "run \`(cd $name && npm ci)\` and read its error"
    fi
  }
  npm_install "$js" yaml-language-server
  npm_install "$vscode" vscode-languageclient
else
  partner_missing "Node.js 20 or newer with npm" "install it (Debian: \`apt-get install nodejs npm\`, as root)"
fi

# --- Python tools, in a virtual environment under the build directory -----------------------------------------
# pre-commit: tests/integrations.rs runs the agw-check hook (.pre-commit-hooks.yaml) for real. ci/test.sh puts
# $tools/bin first on PATH; it holds links to these tools only, not the environment's python.
PY_PACKAGES=(pre-commit==4.7.0)
PY_TOOLS=(pre-commit)
venv="$tools/venv"
if ! have python3; then
  partner_missing "python3 (for pre-commit)" "install Python 3.9 or newer"
else
  if [ ! -x "$venv/bin/python" ]; then
    say "creating a Python virtual environment in $venv"
    mkdir -p "$tools"
    if ! python3 -m venv "$venv" 2>"$tools/venv.log"; then
      rm -rf "$venv"
      if [ "$is_root" = 1 ] && have apt-get; then
        say "python3 -m venv failed ($(tail -n 1 "$tools/venv.log")); installing Debian's python3-venv"
        pyver="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        apt_install python3-venv "python$pyver-venv" || apt_install python3-venv || true
        python3 -m venv "$venv" 2>"$tools/venv.log" || rm -rf "$venv"
      fi
    fi
  fi
  if [ -x "$venv/bin/python" ]; then
    missing=()
    for spec in "${PY_PACKAGES[@]}"; do
      name="${spec%%==*}"; want="${spec#*==}"
      # `pip show` exits 1 for a package that is not installed: that is the normal first run.
      got="$("$venv/bin/python" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p' || true)"
      [ "$got" = "$want" ] || missing+=("$spec")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
      say "installing Python packages into $venv: ${missing[*]}"
      if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q "${missing[@]}"; then
        partner_missing "Python packages ${missing[*]}" "run \`$venv/bin/python -m pip install ${missing[*]}\` and read its error"
      fi
    else
      say "Python packages are up to date: ${PY_PACKAGES[*]}"
    fi
    mkdir -p "$tools/bin"
    for t in "${PY_TOOLS[@]}"; do
      [ -x "$venv/bin/$t" ] && ln -sf "$venv/bin/$t" "$tools/bin/$t"
    done
  else
    partner_missing "a Python virtual environment (for pre-commit)" \
      "install Debian's python3-venv as root (\`apt-get install python3-venv\`): $(tail -n 1 "$tools/venv.log" 2>/dev/null || echo 'python3 -m venv failed')"
  fi
fi

# --- Debian packages ---------------------------------------------------------------------------------------------
# zsh and fish: tests/integrations.rs checks that `agw completions zsh|fish` parse (`zsh -n`, `fish -n`);
# groff-base: that `agw man` is well-formed roff (`groff -man -z -ww`); neovim: tests/lsp.rs drives `agw lsp` from a
# real headless Neovim. They need the system: installed only as
# root; a normal user is told the command.
DEB_PACKAGES=(zsh fish groff-base neovim)
DEB_COMMANDS=(zsh fish groff nvim)
missing=()
for i in "${!DEB_PACKAGES[@]}"; do
  have "${DEB_COMMANDS[$i]}" || missing+=("${DEB_PACKAGES[$i]}")
done
if [ "${#missing[@]}" -gt 0 ] && [ "$is_root" = 1 ] && have apt-get; then
  apt_install "${missing[@]}" || say "apt-get install ${missing[*]} failed"
  still=()
  for i in "${!DEB_PACKAGES[@]}"; do
    have "${DEB_COMMANDS[$i]}" || still+=("${DEB_PACKAGES[$i]}")
  done
  missing=("${still[@]+"${still[@]}"}")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  partner_missing "Debian packages ${missing[*]}" "run \`sudo apt-get install ${missing[*]}\`"
else
  say "zsh, fish, groff and neovim are installed"
fi

if [ "${#missing_partners[@]}" -gt 0 ]; then
  if [ "$require" = 1 ]; then
    say "ERROR: missing test partners: ${missing_partners[*]}"
    exit 1
  fi
  say "done, with skips: ${missing_partners[*]}"
else
  say "done: every test partner is installed"
fi
