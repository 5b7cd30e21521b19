# Sourced by scripts/_venv.sh and scripts/lock. Finds Python 3.11+ ($python) and uv ($uv):
# uv on the PATH, else the one kept in .venv-tools/, else installed there now with pip.
# $uv stays empty when uv cannot be had, or when STUDIO_INSTALLER=pip asks for pip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The uv these scripts install; pyproject.toml's [tool.uv] required-version is its floor.
UV_VERSION=0.13.10

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
if [ -z "$python" ] || ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Image Studio needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi

uv_version() { "$1" --version 2>/dev/null | cut -d' ' -f2; }

# True when version $1 is $UV_VERSION or newer.
uv_recent_enough() { [ "$(printf '%s\n%s\n' "$UV_VERSION" "$1" | sort -V | head -n1)" = "$UV_VERSION" ]; }

bootstrap_uv() {
  rm -rf .venv-tools
  # --target keeps uv out of every environment (and works where the system's pip refuses to
  # install, PEP 668); a Python without pip gets a small venv that brings its own.
  export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
  if "$python" -m pip --version >/dev/null 2>&1; then
    "$python" -m pip install --quiet --target .venv-tools "uv==$UV_VERSION"
  else
    "$python" -m venv .venv-tools/python &&
      .venv-tools/python/bin/python -m pip install --quiet --target .venv-tools "uv==$UV_VERSION"
  fi
}

uv=""
path_uv=$(command -v uv 2>/dev/null || true)
if [ "${STUDIO_INSTALLER:-}" = pip ]; then
  echo "STUDIO_INSTALLER=pip: installing with pip, from the same pins."
elif [ -n "$path_uv" ] && uv_recent_enough "$(uv_version "$path_uv")"; then
  uv=$path_uv
  echo "Using uv $(uv_version "$uv") from the PATH ($uv)."
elif [ -x .venv-tools/bin/uv ] && [ "$(uv_version .venv-tools/bin/uv)" = "$UV_VERSION" ]; then
  uv=.venv-tools/bin/uv
  echo "Using uv $UV_VERSION from .venv-tools/."
else
  if [ -n "$path_uv" ]; then
    missing="uv $(uv_version "$path_uv") on the PATH ($path_uv) is older than $UV_VERSION"
  else
    missing="uv is not on the PATH"
  fi
  echo "$missing: installing uv $UV_VERSION into .venv-tools/ with pip..."
  if bootstrap_uv && [ -x .venv-tools/bin/uv ]; then
    uv=.venv-tools/bin/uv
    echo "Installed uv $UV_VERSION into .venv-tools/."
  else
    echo "Could not install uv (see above): installing with pip instead, from the same pins."
  fi
fi
