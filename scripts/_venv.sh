# Sourced by scripts/start, scripts/test and .ci/run: makes .venv hold what uv.lock pins,
# the app's packages ($1 = requirements.txt) or those and the tests' ($1 = requirements-dev.txt).
# With uv: `uv sync --frozen` from uv.lock; without: pip from $1, exported from the same lock.
source "$(dirname "${BASH_SOURCE[0]}")/_uv.sh"
requirements=$1

if [ -n "$uv" ]; then
  if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $("$python" --version)..."
    "$uv" venv --quiet --python "$python" .venv
  fi
  groups=(--no-dev)
  [ "$requirements" = requirements-dev.txt ] && groups=(--group dev)
  echo "Installing the packages uv.lock pins into .venv (uv sync --frozen ${groups[*]})..."
  # --inexact: packages added by hand stay, and start (no dev) leaves the tests' packages be.
  "$uv" sync --frozen --inexact "${groups[@]}"
else
  if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $("$python" --version)..."
    "$python" -m venv .venv
  elif ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    .venv/bin/python -m ensurepip --upgrade >/dev/null  # uv makes venvs without pip
  fi
  echo "Installing $requirements into .venv with pip (pinned and hash-checked)..."
  # A line per package as it comes, not pip's "already satisfied" for each: errors go to stderr.
  PIP_DISABLE_PIP_VERSION_CHECK=1 .venv/bin/python -m pip install --progress-bar off \
    --require-hashes -r "$requirements" |
    { grep --line-buffered -E '^(Collecting|Installing collected|Successfully installed)' || true; }
fi
echo "Set up: .venv has the locked packages."
