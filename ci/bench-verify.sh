#!/usr/bin/env bash
# Prints verify-token's verification rate (RS256, ES256, warm JWKS cache) next to the raw
# aws-lc-rs signature-verify rate on this machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo bench --bench verify
