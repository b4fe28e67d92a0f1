# Sourced by setup.sh and test-pytorch.sh: the project's own Python environment in .venv/
# (git-ignored), never the system's. pip_current FILE says whether FILE's pins are installed.
# shellcheck shell=bash
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

ensure_venv() {
  if [ -x "$PY" ] && "$PY" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' 2>/dev/null; then
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || { echo "[setup] python3 is needed for the Python export tests" >&2; return 1; }
  python3 -m venv "$VENV"
}

# Every pinned name==version line of the file is what pip reports as installed.
pip_current() {
  "$PY" - "$1" <<'PYCODE'
import re, sys
from importlib import metadata
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, version = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", line).groups()
    try:
        if metadata.version(name) != version:
            sys.exit(1)
    except metadata.PackageNotFoundError:
        sys.exit(1)
PYCODE
}

# Installs FILE's pins into .venv unless they are there already.
pip_install() {
  local file=$1 what=$2
  if pip_current "$file"; then
    echo "[setup] $what in .venv: present"
  else
    echo "[setup] $what in .venv: installing from PyPI ($file)"
    "$PY" -m pip install --disable-pip-version-check -q -r "$file"
  fi
}
