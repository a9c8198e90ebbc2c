# Shared by scripts/*: create or reuse .venv and install the project (editable, with extras).
# Usage: source scripts/_venv.sh [extras]   (extras default: test; comma-separated)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
EXTRAS="${1:-test}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV" >&2
    "$PY" -m venv "$VENV"
fi
# The stamp holds the pyproject.toml hash and every extra installed with it. Install only when
# pyproject.toml changed or an extra is missing, and then the union, so switching between
# scripts (test, then bench, then test) does not reinstall each time.
STAMP="$VENV/.openpit_shm-installed"
HASH="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
read -r OLD_HASH OLD_EXTRAS < "$STAMP" 2>/dev/null || { OLD_HASH=""; OLD_EXTRAS=""; }
if [ "$OLD_HASH" = "$HASH" ]; then
    HAVE="$OLD_EXTRAS"
else
    HAVE=""
fi
WANT="$(printf '%s\n' ${HAVE//,/ } ${EXTRAS//,/ } | sort -u | paste -sd, -)"
if [ "$WANT" != "$HAVE" ]; then
    echo "[setup] installing openpit_shm[$WANT] into $VENV" >&2
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2
    "$VENV/bin/python" -m pip install -q -e "$ROOT[$WANT]" >&2
    echo "$HASH $WANT" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
# Workers and kernels are single-threaded by design (one worker = one core).
export NUMBA_NUM_THREADS="${NUMBA_NUM_THREADS:-1}"
