#!/usr/bin/env bash
# The peer: what operators do by hand today to find zombie KubernetesPodOperator pods.
#   1. kubectl lists the KPO pods in full (-o json; kubectl pages by 500 itself),
#   2. psql fetches the active task instances, their ids normalised in SQL the way Airflow's
#      make_safe_label_value does (regexp + md5), so they compare with the pod labels,
#   3. jq joins the two: a pod older than 5 minutes with no active task instance in its try (or a
#      newer one) is a zombie.
# It checks less than airflow-reap (no dag-run check, no XCom/reattach rule, no re-check), so it is
# a lower bound of the manual cost, not an equivalent.
#
#   bench/peer.sh KUBECONFIG DB_URL WORKDIR      (writes WORKDIR/zombies.txt, one namespace/name a line)
set -euo pipefail
kubeconfig=$1
db=$2
work=$3
mkdir -p "$work"

kubectl --kubeconfig "$kubeconfig" --cache-dir "$work/kube-cache" \
  get pods -A -l kubernetes_pod_operator=True -o json >"$work/pods.json"

norm() { # make_safe_label_value of column $1, in SQL
  local clean="regexp_replace(regexp_replace($1, '^[^A-Za-z0-9]+|[^A-Za-z0-9]+\$', '', 'g'), '[^A-Za-z0-9_.-]', '', 'g')"
  echo "CASE WHEN $clean = $1 AND length($1) <= 63 THEN $1 ELSE left($clean, 53) || '-' || left(md5($1), 9) END"
}
psql "$db" -X -q -At -F $'\t' -c "
  SELECT $(norm dag_id), $(norm task_id), $(norm run_id), map_index, try_number
    FROM task_instance
   WHERE state IS NULL OR state IN ('scheduled','queued','running','restarting','up_for_retry','up_for_reschedule','deferred')" \
  >"$work/tis.tsv"

cutoff=$(date -u -d '5 minutes ago' +%Y-%m-%dT%H:%M:%SZ)
jq -r --rawfile tis "$work/tis.tsv" --arg cutoff "$cutoff" '
  ($tis | split("\n") | map(select(length > 0) | split("\t") | {key: (.[0:4] | join("/")), value: (.[4] | tonumber)})
        | from_entries) as $active
  | .items[]
  | select(.metadata.creationTimestamp < $cutoff)
  | .metadata.labels as $l
  | $active[[$l.dag_id, $l.task_id, $l.run_id, ($l.map_index // "-1")] | join("/")] as $current
  | select($current == null or ($l.try_number | tonumber) < $current)
  | "\(.metadata.namespace)/\(.metadata.name)"' "$work/pods.json" >"$work/zombies.txt"
