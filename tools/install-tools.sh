#!/usr/bin/env bash
# Installs the pinned tools that the sandbox and the tests run: the temporal CLI
# (dev server + Web UI), kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, etcd, kwok, and helm. Only the Go module proxy is needed; nothing is downloaded from
# release pages. Each tool is cached per version under the user's cache folder,
# so a fresh clone on the same machine reuses it and a build runs once.
#
# Usage: tools/install-tools.sh [tool ...]   (temporal, control-plane, kwok, helm; default: temporal, control-plane, helm)
# Prints nothing but progress on stderr; the paths land in $SCW_KARPENTER_TOOLS/bin.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/versions.env
source "$here/versions.env"

cache=${SCW_KARPENTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scw-karpenter}
tools="$cache/tools"
bin="$tools/bin"
mkdir -p "$bin"

# One installer at a time per cache: a test run and `npm start` that both find a tool missing would otherwise
# build it twice and race on its final rename. The second waits, then finds the tool built.
if command -v flock >/dev/null; then
  exec 9>"$tools/.install.lock"
  flock 9
fi

say() { printf '[tools] %s\n' "$*" >&2; }

need_go() {
  command -v go >/dev/null || { say "Go is needed to build $1 (apt-get install golang, or Go >= 1.25 on PATH)"; exit 1; }
}

# shellcheck source=tools/progress.sh
source "$here/progress.sh"

link() { ln -sfn "$1" "$bin/$2"; }

# A tool already present where the user keeps it (envtest's variables or PATH).
from_env() {
  local name=$1 envvar=$2 candidate=""
  if [[ -n "${!envvar:-}" && -x "${!envvar}" ]]; then candidate=${!envvar}
  elif [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/$name" ]]; then candidate="$KUBEBUILDER_ASSETS/$name"
  fi
  [[ -n "$candidate" ]] && { link "$candidate" "$name"; say "$name: using $candidate"; return 0; }
  return 1
}

install_temporal() {
  local dir="$tools/temporal-$TEMPORAL_CLI_VERSION"
  local want="temporal version ${TEMPORAL_CLI_VERSION#v} "
  if [[ -x "$dir/temporal" ]] && "$dir/temporal" --version 2>/dev/null | grep -q "$want"; then link "$dir/temporal" temporal; return; fi
  if command -v temporal >/dev/null && temporal --version 2>/dev/null | grep -q "$want"; then
    link "$(command -v temporal)" temporal; say "temporal: using $(command -v temporal)"; return
  fi
  need_go temporal
  say "building temporal $TEMPORAL_CLI_VERSION from the Go module proxy (first time only, a few minutes)"
  mkdir -p "$dir.tmp"
  # The release build stamps the version; a plain `go install` would say 0.0.0-DEV.
  with_progress temporal env GOBIN="$dir.tmp" CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION#v}" \
    "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  link "$dir/temporal" temporal
}

# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and etcd share one
# tools module (tools/k8s), so they share the build cache and are built together.
install_control_plane() {
  local dir="$tools/kubernetes-$KUBERNETES_VERSION"
  local missing=()
  for t in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    if [[ -x "$dir/$t" ]]; then link "$dir/$t" "$t"; continue; fi
    case $t in
      kube-apiserver) from_env "$t" TEST_ASSET_KUBE_APISERVER && continue ;;
      etcd) from_env "$t" TEST_ASSET_ETCD && continue ;;
    esac
    missing+=("$t")
  done
  (( ${#missing[@]} )) || return 0
  need_go "${missing[*]}"
  local minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  local ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  mkdir -p "$dir"
  for t in "${missing[@]}"; do
    local pkg="k8s.io/kubernetes/cmd/$t"
    [[ $t == etcd ]] && pkg="go.etcd.io/etcd/server/v3"
    say "building $t $KUBERNETES_VERSION from the Go module proxy (first time only: 10-20 min on 2 cores)"
    (cd "$here/k8s" && with_progress "$t" env CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dir/$t.tmp" "$pkg")
    mv "$dir/$t.tmp" "$dir/$t"
    link "$dir/$t" "$t"
  done
}

install_kwok() {
  local dir="$tools/kwok-$KWOK_VERSION"
  if [[ -x "$dir/kwok" ]]; then link "$dir/kwok" kwok; return; fi
  need_go kwok
  say "building kwok $KWOK_VERSION from the Go module proxy (first time only)"
  mkdir -p "$dir.tmp"
  with_progress kwok env GOBIN="$dir.tmp" CGO_ENABLED=0 go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  link "$dir/kwok" kwok
}

# helm from its module, with the flags of its release Makefile: the version, and the
# Kubernetes version its client-go stands for (without them `helm template` assumes 1.20).
install_helm() {
  local dir="$tools/helm-$HELM_VERSION"
  if [[ -x "$dir/helm" ]] && "$dir/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; then link "$dir/helm" helm; return; fi
  need_go helm
  say "building helm $HELM_VERSION from the Go module proxy (first time only, a few minutes)"
  mkdir -p "$dir.tmp"
  local mod="helm.sh/helm/v3" kube_minor
  # client-go v0.N is Kubernetes 1.N; read it from helm's own go.mod once the module is fetched.
  kube_minor=$(GOFLAGS=-mod=mod go mod download -json "$mod@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p' | xargs sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p')
  local ldflags="-s -w -X $mod/internal/version.version=$HELM_VERSION -X $mod/internal/version.gitTreeState=clean"
  for pkg in pkg/lint/rules pkg/chartutil; do
    ldflags+=" -X $mod/$pkg.k8sVersionMajor=1 -X $mod/$pkg.k8sVersionMinor=$kube_minor"
  done
  with_progress helm env GOBIN="$dir.tmp" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "$mod/cmd/helm@$HELM_VERSION"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
  link "$dir/helm" helm
}

wanted=("$@")
(( ${#wanted[@]} )) || wanted=(temporal control-plane helm)
for w in "${wanted[@]}"; do
  case $w in
    temporal) install_temporal ;;
    control-plane|kube-apiserver|etcd|kube-scheduler|kube-controller-manager|kubectl) install_control_plane ;;
    kwok) install_kwok ;;
    helm) install_helm ;;
    *) say "unknown tool $w"; exit 2 ;;
  esac
done
echo "$bin"
