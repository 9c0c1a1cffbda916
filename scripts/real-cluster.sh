#!/usr/bin/env bash
# The real Kubernetes control plane that test/real/ runs against: etcd,
# kube-apiserver, kube-controller-manager and kubectl, built with `go build` from
# the pinned Go module in test/real/k8s (go.mod/go.sum say every version).
#
#   scripts/real-cluster.sh build   build once (no-op when the cache holds them)
#   scripts/real-cluster.sh path    print the binaries' directory (built or not)
#
# Binaries live in a per-user cache keyed by a hash of the module files, so a
# change of pin builds anew and CI on the same machine reuses them; Go's module
# and build caches stay in their default per-user places (go env GOMODCACHE,
# GOCACHE), so even a new pin mostly relinks. The tests start the binaries
# themselves (test/support/real-kube.ts).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
module="$repo/test/real/k8s"
k8s_version=v1.37.2 # keep in step with test/real/k8s/go.mod
binaries=(etcd kube-apiserver kube-controller-manager kubectl)
version_pkg=k8s.io/component-base/version
ldflags="-s -w -X $version_pkg.gitVersion=$k8s_version -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=37"
ldflags+=" -X $version_pkg.gitTreeState=clean"

# What decides the binaries: the module files and the flags (not this script's comments).
cache_dir() {
  local hash
  hash=$( (cat "$module/go.mod" "$module/go.sum" "$module/etcd/main.go"; echo "$ldflags") |
    sha256sum | cut -c1-16)
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/airflow-reap/real-k8s/$hash"
}

built() {
  local dir=$1 b
  for b in "${binaries[@]}"; do [[ -x "$dir/bin/$b" ]] || return 1; done
}

build() {
  local dir tmp started
  dir=$(cache_dir)
  if built "$dir"; then
    echo "real-cluster: binaries cached in $dir/bin"
    return 0
  fi
  command -v go >/dev/null || { echo "real-cluster: go is not installed (needs Go >= 1.26)" >&2; exit 1; }
  mkdir -p "$(dirname "$dir")"
  tmp=$(mktemp -d "$dir.tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  started=$(date +%s)
  echo "real-cluster: building etcd, kube-apiserver, kube-controller-manager, kubectl $k8s_version (cold: tens of minutes on 2 cores)"
  mkdir -p "$tmp/bin"
  (
    cd "$module"
    # GOTOOLCHAIN=local: build with the installed Go, never download another.
    export GOTOOLCHAIN=local CGO_ENABLED=0
    go build -buildvcs=false -ldflags "$ldflags" -o "$tmp/bin/" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kubectl
    go build -buildvcs=false -ldflags "-s -w" -o "$tmp/bin/etcd" ./etcd
  )
  echo "$(($(date +%s) - started))" >"$tmp/build-seconds"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  trap - EXIT
  echo "real-cluster: built in $(cat "$dir/build-seconds") s into $dir/bin"
}

case "${1:-build}" in
  build) build ;;
  path) echo "$(cache_dir)/bin" ;;
  *) echo "usage: $0 [build|path]" >&2; exit 2 ;;
esac
