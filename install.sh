#!/usr/bin/env sh
# Installs the agw binary: the release build for this machine when one matches what was asked for,
# otherwise (with --source) a build from source with cargo. Used by people, by the GitHub Action
# (action.yml) and by the pre-commit hook (.pre-commit-hooks.yaml), so that none of them compiles
# agw when a release binary fits.
#
#   sh install.sh [--dest DIR] [--tag vX.Y.Z] [--commit SHA] [--source DIR] [--build]
#
#   --dest DIR     where `agw` goes (default: ~/.local/bin)
#   --tag TAG      the release to download (default: v<version of --source>, else the latest)
#   --commit SHA   download only if the release was built from this commit (its COMMIT file says
#                  so); otherwise fall back to --source. For a checkout that is not a release.
#   --source DIR   an agw source tree to build with `cargo install` when no release binary matches
#   --build        do not look for a release: build --source (a branch, which no release matches)
#
# Release files: <base>/<tag>/agw-<target>.tar.gz, SHA256SUMS and COMMIT, where <base> is
# $AGW_RELEASE_BASE or https://github.com/agw-dev/agw/releases/download. Every download is
# checked against SHA256SUMS. The last line printed is the path of the installed binary.
set -eu

base="${AGW_RELEASE_BASE:-https://github.com/agw-dev/agw/releases/download}"
dest="$HOME/.local/bin"
tag=""
commit=""
source_dir=""
build_only=0

say() { printf 'agw install: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dest) dest="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --commit) commit="$2"; shift 2 ;;
    --source) source_dir="$2"; shift 2 ;;
    --build) build_only=1; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

if [ -z "$tag" ] && [ -n "$source_dir" ] && [ -f "$source_dir/Cargo.toml" ]; then
  tag="v$(sed -n 's/^version = "\(.*\)"/\1/p' "$source_dir/Cargo.toml" | head -n 1)"
fi

target_triple() {
  os="$(uname -s)"; arch="$(uname -m)"
  case "$arch" in
    x86_64|amd64) arch=x86_64 ;;
    aarch64|arm64) arch=aarch64 ;;
    *) return 1 ;;
  esac
  case "$os" in
    Linux) echo "$arch-unknown-linux-gnu" ;;
    Darwin) echo "$arch-apple-darwin" ;;
    *) return 1 ;;
  esac
}

fetch() { # URL FILE: quiet, bounded, fails on HTTP errors
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --connect-timeout 10 --max-time 120 --retry 2 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -T 60 -O "$2" "$1"
  else
    return 1
  fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# Tries the release; returns non-zero (with the reason said) when none fits.
from_release() {
  triple="$(target_triple)" || { say "no release build for $(uname -s) $(uname -m)"; return 1; }
  if [ -z "$tag" ]; then
    say "no release tag given"
    return 1
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  url="$base/$tag"
  asset="agw-$triple.tar.gz"
  if ! fetch "$url/SHA256SUMS" "$tmp/SHA256SUMS"; then
    say "no release $tag at $base (or it cannot be reached)"
    return 1
  fi
  if [ -n "$commit" ]; then
    if ! fetch "$url/COMMIT" "$tmp/COMMIT"; then
      say "release $tag has no COMMIT file"
      return 1
    fi
    built="$(tr -d ' \n\r' < "$tmp/COMMIT")"
    if [ "$built" != "$commit" ]; then
      say "release $tag was built from ${built:-?}, not from $commit"
      return 1
    fi
  fi
  want="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")"
  [ -n "$want" ] || { say "release $tag has no $asset"; return 1; }
  fetch "$url/$asset" "$tmp/$asset" || { say "cannot download $url/$asset"; return 1; }
  got="$(sha256 "$tmp/$asset")"
  [ "$got" = "$want" ] || die "$asset does not match SHA256SUMS (expected $want, got $got): not installed"
  tar -xzf "$tmp/$asset" -C "$tmp"
  [ -f "$tmp/agw" ] || die "$asset holds no agw binary"
  mkdir -p "$dest"
  install -m 0755 "$tmp/agw" "$dest/agw.new"
  mv -f "$dest/agw.new" "$dest/agw"
  say "installed the release build $tag ($triple) into $dest"
}

from_source() {
  [ -n "$source_dir" ] || die "no release binary fits and no --source to build from"
  command -v cargo >/dev/null 2>&1 \
    || die "no release binary fits, and building from source needs cargo (https://rustup.rs) and a C compiler"
  say "building agw from $source_dir with cargo (the first build takes several minutes)"
  root="$(dirname "$dest")"
  cargo install --locked --quiet --root "$root" --path "$source_dir" >&2
  [ "$root/bin" = "$dest" ] || { mkdir -p "$dest"; cp "$root/bin/agw" "$dest/agw"; }
}

if [ "$build_only" = 1 ]; then
  from_source
else
  from_release || from_source
fi
"$dest/agw" --version >&2 || die "$dest/agw does not run"
echo "$dest/agw"
