#!/usr/bin/env sh
# Entry of the `agw-check` pre-commit hook (.pre-commit-hooks.yaml): runs agw, installed once per
# hook revision into the cache. A release binary is downloaded when the release was built from
# exactly this revision; any other revision is built from the hook's checkout with cargo.
set -eu
repo="$(cd "$(dirname "$0")/.." && pwd)"
# pre-commit runs hooks inside the user's repository: git's variables point there, not here.
commit="$(cd "$repo" && env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE git rev-parse HEAD 2>/dev/null || echo unknown)"
bin="${AGW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/agw}/$commit/bin"
if [ ! -x "$bin/agw" ]; then
  sh "$repo/install.sh" --dest "$bin" --commit "$commit" --source "$repo" >/dev/null
fi
exec "$bin/agw" "$@"
