#!/usr/bin/env bash
# Installs Karpenter core with its KWOK cloud provider (sigs.k8s.io/karpenter/kwok) at the
# pinned KARPENTER_VERSION, and the CRDs of that same release next to the binary. Only the
# side-by-side benchmark (npm run bench:karpenter) needs it, so npm test never calls it.
# Cached per version under the same tools folder as tools/install-tools.sh.
#
# Usage: tools/install-karpenter-kwok.sh
# Progress on stderr; prints the folder holding `kwok` (the Karpenter binary) and crds/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/versions.env
source "$here/versions.env"

cache=${SCW_KARPENTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scw-karpenter}
dir="$cache/tools/karpenter-kwok-$KARPENTER_VERSION"

say() { printf '[karpenter] %s\n' "$*" >&2; }
# shellcheck source=tools/progress.sh
source "$here/progress.sh"

# The release's CRDs: Karpenter's own (pkg/apis/crds), the KWOKNodeClass (kwok/apis/crds)
# and CapacityBuffer (kwok/charts/crds), which its controllers watch and fail without.
crds=(
  pkg/apis/crds/karpenter.sh_nodepools.yaml
  pkg/apis/crds/karpenter.sh_nodeclaims.yaml
  pkg/apis/crds/karpenter.sh_nodeoverlays.yaml
  kwok/apis/crds/karpenter.kwok.sh_kwoknodeclasses.yaml
  kwok/charts/crds/autoscaling.x-k8s.io_capacitybuffers.yaml
)

complete() {
  [[ -x "$dir/karpenter-kwok" ]] || return 1
  for c in "${crds[@]}"; do [[ -f "$dir/crds/$(basename "$c")" ]] || return 1; done
}

if complete; then echo "$dir"; exit 0; fi

command -v go >/dev/null || { say "Go is needed to build Karpenter (Go >= 1.25 on PATH)"; exit 1; }
say "building Karpenter $KARPENTER_VERSION (KWOK provider) from the Go module proxy (first time only: 10-25 min on 2 cores)"
rm -rf "$dir.tmp"; mkdir -p "$dir.tmp/crds"
started=$SECONDS
with_progress "Karpenter $KARPENTER_VERSION" env GOBIN="$dir.tmp" CGO_ENABLED=0 go install -trimpath "sigs.k8s.io/karpenter/kwok@$KARPENTER_VERSION"
took=$((SECONDS - started))
# `go install` names the binary after the package (kwok), which would shadow the kwok tool
# of install-tools.sh on a shared PATH; rename it to say what it is.
mv "$dir.tmp/kwok" "$dir.tmp/karpenter-kwok"
module="$(go env GOMODCACHE)/sigs.k8s.io/karpenter@$KARPENTER_VERSION"
for c in "${crds[@]}"; do cp "$module/$c" "$dir.tmp/crds/"; done
chmod u+w "$dir.tmp/crds/"*
echo "$took" > "$dir.tmp/build-seconds"
rm -rf "$dir"; mv "$dir.tmp" "$dir"
echo "$dir"
