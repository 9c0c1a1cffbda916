#!/usr/bin/env bash
# Prints the path of Debian's kubectl (package kubernetes-client), for the release tests
# (AIRFLOW_REAP_KUBECTL="$(bash scripts/debian-kubectl.sh)" npm run test:release): /usr/bin/kubectl
# when kubernetes-client is installed, else the kubectl of that package unpacked into
# .cache/release/debian-kubectl/ (the machine may have another package's kubectl at /usr/bin/kubectl,
# which dpkg would not let kubernetes-client replace).
set -euo pipefail
cd "$(dirname "$0")/.."

if dpkg-query -W -f='${Status}' kubernetes-client 2>/dev/null | grep -q 'install ok installed'; then
  echo /usr/bin/kubectl
  exit 0
fi

dir="$PWD/.cache/release/debian-kubectl"
if [ ! -x "$dir/usr/bin/kubectl" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  chmod 755 "$tmp" # apt's download sandbox user must be able to write there
  if ! (cd "$tmp" && apt-get download -qq kubernetes-client >&2 2>/dev/null); then
    apt-get update -qq >&2
    (cd "$tmp" && apt-get download -qq kubernetes-client >&2)
  fi
  mkdir -p "$dir"
  dpkg -x "$tmp"/kubernetes-client_*.deb "$dir"
fi
echo "$dir/usr/bin/kubectl"
