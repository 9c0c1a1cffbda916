#!/usr/bin/env bash
# Creates the real Airflow installs that test/real/airflow*.test.ts run against, when missing: one
# virtualenv per Airflow line (2.10.5 and 3.3.2 today), installed from PyPI with
# `pip install -c test/real/airflow/constraints-LINE.txt -r test/real/airflow/requirements-LINE.txt`:
# Airflow, the cncf-kubernetes provider and the DB drivers that Airflow line accepts. The constraints
# are a `pip freeze` of a working install (Airflow's own constraint files live on a host this project
# cannot reach).
#   2.10: psycopg2-binary, and the pure-Python PyMySQL for MariaDB (`mysql+pymysql://`).
#   3:    SQLAlchemy 2.1 makes `postgresql://` mean psycopg 3, and Airflow 3.3 also opens an async
#         engine (asyncpg, aiomysql); for any `mysql` URL it insists on mysqlclient (settings.py
#         configure_adapters), which has no Linux wheel: its build needs libmariadb-dev, pkg-config
#         and gcc, installed from Debian here when missing.
#
# Each venv lives in ${XDG_CACHE_HOME:-~/.cache}/airflow-reap/airflow-venvs/LINE-HASH, HASH being the
# first 16 hex digits of the sha256 of the constraints file followed by the requirements file
# (test/support/real-airflow/venv.ts computes the same), so a changed pin makes a new venv and CI on
# the same machine reuses an unchanged one. A venv is complete once its `.complete` stamp exists; a
# half-made one (an interrupted install) is removed and made again. pip's own cache stays where pip
# keeps it.
#
#   bash scripts/real-airflow.sh            every line (2.10 and 3), both at once
#   bash scripts/real-airflow.sh 3          one line
#   bash scripts/real-airflow.sh --path 3   print that line's venv directory and exit
set -euo pipefail
cd "$(dirname "$0")/.."

LINES=(2.10 3)
CONSTRAINTS_DIR=test/real/airflow
VENVS="${XDG_CACHE_HOME:-$HOME/.cache}/airflow-reap/airflow-venvs"

log() { printf '== real-airflow: %s\n' "$*" >&2; }

python_bin() {
  local candidate
  # pyenv's own 3.11 too, for a shell whose PATH lacks pyenv's shims.
  for candidate in "${AIRFLOW_REAP_PYTHON:-}" python3.11 python3 "$HOME"/.pyenv/versions/3.11*/bin/python3.11; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return
    fi
  done
  log "no CPython 3.11 found (python3.11 or python3); set AIRFLOW_REAP_PYTHON"
  return 1
}

venv_dir() {
  local line=$1 hash
  hash=$(cat "$CONSTRAINTS_DIR/constraints-$line.txt" "$CONSTRAINTS_DIR/requirements-$line.txt" | sha256sum | cut -c1-16)
  printf '%s/%s-%s\n' "$VENVS" "$line" "$hash"
}

ensure_line() {
  local line=$1 dir python start
  dir=$(venv_dir "$line")
  if [ -e "$dir/.complete" ]; then
    log "Airflow $line: $dir (cached)"
    return
  fi
  python=$(python_bin)
  rm -rf "$dir"
  mkdir -p "$VENVS"
  start=$(date +%s)
  log "Airflow $line: installing into $dir (pip, PyPI)"
  "$python" -m venv "$dir"
  # The venv's absolute path is written into its scripts, so it is made in place, never moved.
  if ! "$dir/bin/python" -m pip install --quiet --no-input --disable-pip-version-check --progress-bar off \
    -c "$CONSTRAINTS_DIR/constraints-$line.txt" -r "$CONSTRAINTS_DIR/requirements-$line.txt" >"$dir.log" 2>&1; then
    log "Airflow $line: pip install failed; its output:"
    cat "$dir.log" >&2
    rm -rf "$dir"
    return 1
  fi
  "$dir/bin/python" -c 'import airflow.providers.cncf.kubernetes.operators.pod' >>"$dir.log" 2>&1
  date -u +%FT%TZ >"$dir/.complete"
  rm -f "$dir.log"
  log "Airflow $line: installed in $(($(date +%s) - start)) s"
}

# mysqlclient's build dependencies (Debian), for the lines that need it.
build_deps() {
  grep -qx mysqlclient "$CONSTRAINTS_DIR"/requirements-*.txt || return 0
  local missing=() package
  for package in libmariadb-dev pkg-config gcc; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing ${missing[*]} (Debian; to build mysqlclient)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "${1:-}" = --path ]; then
  venv_dir "${2:?usage: real-airflow.sh --path LINE}"
  exit 0
fi

[ "$#" -gt 0 ] && LINES=("$@")
build_deps
pids=()
for line in "${LINES[@]}"; do
  [ -f "$CONSTRAINTS_DIR/constraints-$line.txt" ] || { log "no $CONSTRAINTS_DIR/constraints-$line.txt"; exit 2; }
  ensure_line "$line" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit "$status"
