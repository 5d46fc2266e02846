#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test target.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash ci/install-test-deps.sh

# Data that lives beside the repository (read-only), when present. A value already set wins.
shared="$root/../shared"
if [ -z "${AGW_CORPUS_DIR:-}" ] && [ -d "$shared/corpus" ]; then
  export AGW_CORPUS_DIR="$(cd "$shared/corpus" && pwd)"
fi
if [ -z "${AGW_VECTORS_DIR:-}" ] && [ -d "$shared/vectors" ]; then
  export AGW_VECTORS_DIR="$(cd "$shared/vectors" && pwd)"
fi
export AGW_JS_DIR="$root/tests/js"
echo "AGW_CORPUS_DIR=${AGW_CORPUS_DIR:-<unset>}"
echo "AGW_VECTORS_DIR=${AGW_VECTORS_DIR:-<unset>}"
echo "AGW_JS_DIR=$AGW_JS_DIR"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings

echo "== cargo test"
cargo test --all-targets
