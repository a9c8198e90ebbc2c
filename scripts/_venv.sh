# Shared by scripts/*: create or reuse .venv and install the project (editable, with extras).
# Usage: source scripts/_venv.sh [extras]   (extras default: test)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
EXTRAS="${1:-test}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV" >&2
    "$PY" -m venv "$VENV"
fi
# Reinstall only when pyproject.toml or the requested extras change.
STAMP="$VENV/.openpit_shm-installed"
WANT="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1) $EXTRAS"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "[setup] installing openpit_shm[$EXTRAS] into $VENV" >&2
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
    "$VENV/bin/python" -m pip install -q -e "$ROOT[$EXTRAS]" >&2
    echo "$WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
# Workers and kernels are single-threaded by design (one worker = one core).
export NUMBA_NUM_THREADS="${NUMBA_NUM_THREADS:-1}"
