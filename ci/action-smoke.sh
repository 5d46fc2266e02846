#!/usr/bin/env bash
# Runs the GitHub Action in action.yml locally, as far as it can run off GitHub: the script of its
# `check` step, read from action.yml as written, with the step's `env:` filled in the way the
# runner fills it (inputs from the flags below or the defaults declared in action.yml). The steps
# that build agw (actions/cache, cargo install) are GitHub-only; an agw binary given with --agw
# stands in for them, as the action's `agw-binary` input does.
#
#   bash ci/action-smoke.sh --agw target/debug/agw [--args ARGS] [--sarif-file FILE]
#                           [--fail-on-findings true|false] PATH...
#
# Standard output is what the runner's log would show: the annotations (workflow commands such
# as `::error file=...`) and the step's messages. The step's outputs (`exit-code`, `sarif-file`)
# are printed to standard error as `output: NAME=VALUE`. The exit code is the step's.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
action="$root/action.yml"

usage() { sed -n '8,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

declare -A input=()
paths=()
while [ $# -gt 0 ]; do
  case "$1" in
    --agw) input[agw-binary]="$2"; shift 2 ;;
    --args) input[args]="$2"; shift 2 ;;
    --sarif-file) input[sarif-file]="$2"; shift 2 ;;
    --fail-on-findings) input[fail-on-findings]="$2"; shift 2 ;;
    --) shift; paths+=("$@"); break ;;
    -h|--help) usage ;;
    -*) echo "action-smoke: unknown flag $1" >&2; usage ;;
    *) paths+=("$1"); shift ;;
  esac
done
[ -n "${input[agw-binary]:-}" ] || { echo "action-smoke: --agw BINARY is required" >&2; usage; }
input[paths]="${paths[*]:-}"

# The defaults action.yml declares, for inputs not given. Inputs are `  name:` at indent 2 under
# `inputs:`, their default `    default: VALUE` at indent 4 (a plain or quoted one-line scalar).
while IFS=$'\t' read -r name value; do
  [ -v "input[$name]" ] || input[$name]="$value"
done < <(awk '
  /^[^ #]/ { section = $1 }
  section == "inputs:" && /^  [a-z][a-z0-9-]*:[ ]*$/ { name = $1; sub(/:$/, "", name) }
  section == "inputs:" && /^    default:/ {
    v = $0; sub(/^    default:[ ]*/, "", v)
    if (v ~ /^".*"$/ || v ~ /^'\''.*'\''$/) v = substr(v, 2, length(v) - 2)
    printf "%s\t%s\n", name, v
  }' "$action")

# The `check` step: the list item under `runs:` (steps are items at indent 4) with `id: check`.
step="$(awk '
  /^[^ #]/ { in_runs = ($1 == "runs:") }
  !in_runs { next }
  /^    - / { if (found) exit; buf = "" }
  { buf = buf $0 "\n" }
  /^      id: check[ ]*$/ { found = 1 }
  END { if (found) printf "%s", buf }
' "$action")"
[ -n "$step" ] || { echo "action-smoke: no step with id: check in action.yml" >&2; exit 2; }

# The runner's expression evaluation, for the few forms the step uses. Anything else is refused,
# so that a change to action.yml this script cannot follow fails loudly instead of passing.
expr_value() {
  local e="$1"
  case "$e" in
    inputs.*) printf '%s' "${input[${e#inputs.}]-}" ;;
    steps.build.outputs.*) printf '' ;; # the build steps do not run here: --agw replaces them
    github.action_path) printf '%s' "$root" ;;
    *) echo "action-smoke: cannot evaluate \${{ $e }} in the check step" >&2; return 1 ;;
  esac
}

# The step's env: `KEY: ${{ expr }}` or `KEY: literal` at indent 8 under `      env:`.
step_env=()
while IFS= read -r line; do
  key="${line%%:*}"; val="${line#*:}"; val="${val# }"
  if [[ "$val" =~ ^\$\{\{\ *([^}]*[^} ])\ *\}\}$ ]]; then
    val="$(expr_value "${BASH_REMATCH[1]}")"
  elif [[ "$val" == *'${{'* ]]; then
    echo "action-smoke: unsupported env value in the check step: $line" >&2; exit 2
  fi
  step_env+=("$key=$val")
done < <(awk '
  /^      [a-z-]+:/ { in_env = ($1 == "env:") ; next }
  in_env && /^        [A-Za-z_][A-Za-z0-9_]*:/ { sub(/^        /, ""); print }
' <<< "$step")

# The step's script: the block scalar after `      run: |`, less its 8-space indentation.
script="$(awk '
  /^      run: \|[ ]*$/ { in_run = 1; next }
  in_run && /^      [^ ]/ { in_run = 0 }
  in_run { sub(/^        /, ""); print }
' <<< "$step")"
[ -n "$script" ] || { echo "action-smoke: the check step has no run: | script" >&2; exit 2; }
if grep -q '\${{' <<< "$script"; then
  echo "action-smoke: the check step's script uses \${{ }} expressions; pass them through env:" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '%s\n' "$script" > "$work/step.sh"
: > "$work/output"

# As the runner runs a `shell: bash` step: bash --noprofile --norc -eo pipefail {0}.
code=0
env "${step_env[@]}" GITHUB_OUTPUT="$work/output" GITHUB_ACTIONS=true \
  bash --noprofile --norc -eo pipefail "$work/step.sh" || code=$?
while IFS= read -r line; do
  [ -n "$line" ] && echo "output: $line" >&2
done < "$work/output"
exit "$code"
