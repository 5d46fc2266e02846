#!/usr/bin/env bash
# The whole test suite, as CI runs it: test partners, formatting, lints, then every test target.
# Ends with one line that counts every test of the run: `tests: N passed, N failed, N skipped`.
# Every test partner is required (AGW_REQUIRE_PARTNERS=1 unless set): a missing one fails its tests.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"

# This script installs every partner itself, so a missing one is a failure, not a skip; set
# AGW_REQUIRE_PARTNERS=0 to have such tests reported as skipped instead.
export AGW_REQUIRE_PARTNERS="${AGW_REQUIRE_PARTNERS:-1}"
echo "AGW_REQUIRE_PARTNERS=${AGW_REQUIRE_PARTNERS:-0}"

bash ci/install-test-deps.sh
# Tools installed into the build directory (pre-commit), ahead of any system copy.
export PATH="$target/test-tools/bin:$PATH"

# Data that lives beside the repository (read-only), when present. A value already set wins.
shared="$root/../shared"
for pair in CORPUS:corpus VECTORS:vectors UPSTREAM:upstream; do
  var="AGW_${pair%%:*}_DIR"; dir="$shared/${pair#*:}"
  if [ -z "${!var:-}" ] && [ -d "$dir" ]; then
    export "$var=$(cd "$dir" && pwd)"
  fi
  echo "$var=${!var:-<unset>}"
done
export AGW_JS_DIR="$root/tests/js"
echo "AGW_JS_DIR=$AGW_JS_DIR"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings

echo "== cargo test"
# Tests that lack a partner append `name<TAB>reason` here (tests/common/partners.rs).
export AGW_SKIP_LOG="$target/test-skips.log"
mkdir -p "$target"
: > "$AGW_SKIP_LOG"
log="$target/test-output.log"
set +e
cargo test --no-fail-fast --all-targets 2>&1 | tee "$log"
status="${PIPESTATUS[0]}"
set -e

# Every test binary (unit, integration, doc, bench smoke) ends with `test result: ... N passed; N failed; ...`.
read -r passed failed < <(awk '
  /^test result:/ {
    for (i = 1; i <= NF; i++) {
      if ($(i+1) ~ /^passed/) p += $i
      if ($(i+1) ~ /^failed/) f += $i
    }
  }
  END { printf "%d %d\n", p, f }' "$log")
skipped="$(cut -f1 "$AGW_SKIP_LOG" | sort -u | grep -c . || true)"
if [ "$skipped" -gt 0 ]; then
  echo
  echo "Skipped (a partner is missing; passed without doing their work, not counted as passed):"
  sort -u "$AGW_SKIP_LOG" | awk -F'\t' '{ printf "  %s: %s\n", $1, $2 }'
  passed=$((passed - skipped))
fi
binaries="$(grep -c '^test result:' "$log" || true)"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "cargo test exited $status with no failed test: a test binary did not build or did not finish (see above)"
  failed=1
fi
echo
echo "$binaries test binaries"
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
