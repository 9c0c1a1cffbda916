#!/usr/bin/env bash
# The real peers the test suite runs against, made when their per-user cache lacks them and found at
# once otherwise (`npm run test:all` calls this first; `npm run peers` alone):
# - Airflow 2.10 and 3 venvs for test/real/airflow* (scripts/real-airflow.sh: pip from PyPI, pinned by
#   test/real/airflow/constraints-*.txt, in ~/.cache/airflow-reap/airflow-venvs);
# - etcd, kube-apiserver, kube-controller-manager and kubectl for test/real/k8s-* (scripts/real-cluster.sh:
#   `go build` of the module pinned in test/real/k8s, in ~/.cache/airflow-reap/real-k8s/<hash>).
# The pip installs run beside the Go build: on a machine with neither, that saves their minutes.
# Under CI=true the real-peer tests fail, not skip, when a peer is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }

airflow_log=$(mktemp)
trap 'rm -f "$airflow_log"' EXIT
log "real Airflow venvs (scripts/real-airflow.sh), beside the control plane build"
bash scripts/real-airflow.sh >"$airflow_log" 2>&1 &
airflow_pid=$!
log "real Kubernetes control plane (scripts/real-cluster.sh build)"
if ! nice -n 10 bash scripts/real-cluster.sh build; then
  kill "$airflow_pid" 2>/dev/null || true
  wait "$airflow_pid" 2>/dev/null || true
  exit 1
fi
if ! wait "$airflow_pid"; then
  cat "$airflow_log" >&2
  echo "scripts/real-airflow.sh failed" >&2
  exit 1
fi
tail -n 3 "$airflow_log" >&2
