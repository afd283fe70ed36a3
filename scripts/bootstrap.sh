#!/usr/bin/env bash
# Bootstrap everything `make run` and `make test` need, idempotently, from a fresh clone:
#   .tools/uv (from PyPI) → .venv/ from uv.lock → front-end assets (npm) → compiled translations,
# and with `--test`, the system packages the browser and PDF tests need (Chromium, a CJK font).
# Needs only Python 3.11+, make and the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  echo "bootstrap: Python 3.11 or newer is required" >&2; return 1
}
PY=$(find_python)

if [ ! -x .tools/bin/uv ]; then
  echo "bootstrap: installing uv into .tools/"
  "$PY" -m pip install --quiet --disable-pip-version-check --target .tools uv
fi
export UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT="$PWD/.venv"
.tools/bin/uv sync --frozen --quiet --python "$PY"

# System packages: a CJK font for PDFs (WeasyPrint) always; Chromium for the browser tests.
apt_missing=()
fc-list 2>/dev/null | grep -qiE "wenquanyi|noto sans cjk|noto serif cjk" || apt_missing+=(fonts-wqy-microhei)
if [ "$want_test" = 1 ] && [ ! -x /usr/bin/chromium ]; then apt_missing+=(chromium); fi
if [ "${#apt_missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: apt-get install ${apt_missing[*]}"
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
  else
    echo "bootstrap: please install: ${apt_missing[*]} (needs root)" >&2
  fi
fi

bash scripts/assets.sh
# Compiled translations (.mo) are built here, not committed.
if command -v msgfmt >/dev/null 2>&1; then
  (cd pingantong && ../.venv/bin/python -m pingantong.cli compilemessages --ignore=.venv -v 0 >/dev/null)
else
  echo "bootstrap: gettext (msgfmt) not found; the UI falls back to English source strings" >&2
fi
