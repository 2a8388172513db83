#!/usr/bin/env bash
# Builds the scw-karpenter image without Docker and without pulling any base image:
# the app compiled by tsc (tsconfig.build.json), its workflows prebundled, its production
# dependencies only (Temporal's native bridge for linux-x64 only), the Node binary of npm's
# `node` package, glibc/libgcc/libstdc++ and the CA bundle from pinned Debian packages,
# an /etc/passwd with user 65532. No shell, no package manager. Layers are tars with sorted
# names, mtime 0 and numeric owners, so the same inputs give the same digest; umoci writes
# the OCI image, which lands in .image/scw-karpenter-oci.tar (an oci-archive).
#
# Usage: tools/image/build.sh [--force]
#   Skips the build when the archive was built from the same inputs (a content hash of the
#   sources, the lock file and this recipe, kept next to the archive); --force rebuilds.
# Caches (Debian packages, production node_modules, staging) live under
# ${SCW_KARPENTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scw-karpenter}/image.
set -euo pipefail
export LC_ALL=C TZ=UTC

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${SCW_KARPENTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scw-karpenter}/image
out_dir=$root/.image
archive=$out_dir/scw-karpenter-oci.tar
stamp=$archive.inputs
node=$root/node_modules/.bin/node
epoch=1970-01-01T00:00:00Z

force=false
for arg in "$@"; do
  case $arg in
    --force) force=true ;;
    *) echo "usage: tools/image/build.sh [--force]" >&2; exit 2 ;;
  esac
done

say() { printf '[image] %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
started=$SECONDS

[[ -x $node ]] || die "node_modules/.bin/node is missing: run npm ci first"
# One build at a time per cache (test runs call this concurrently): a second caller waits, then finds the image up to date.
mkdir -p "$cache"
if command -v flock >/dev/null; then
  exec 9>"$cache/.build.lock"
  flock 9
fi
# The Debian tooling (umoci and the rest), installed by the project's own script when missing.
bash "$(dirname "${BASH_SOURCE[0]}")/../install-container-tools.sh"
for tool in umoci tar gzip dpkg-deb sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is missing after tools/install-container-tools.sh"
done

# The product: what the watcher, the worker and the CLI run. Never the sandbox, tests, benches, chaos or the simulator.
product_dirs=(workflows activities watcher worker runtime scaleway kube bootstrap cli)
existing_dirs=()
for d in "${product_dirs[@]}"; do [[ -d $root/$d ]] && existing_dirs+=("$d"); done

inputs_hash() {
  (
    cd "$root"
    {
      find "${existing_dirs[@]}" -type f -not -path 'scaleway/simulator/*' -print0
      printf '%s\0' package.json package-lock.json tsconfig.json tsconfig.build.json
      find tools/image -type f -print0
    } | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
  )
}

want=$(inputs_hash)
if [[ $force == false && -f $archive && -f $stamp && $(cat "$stamp") == "$want" ]]; then
  say "up to date: $archive ($(du -h "$archive" | cut -f1), inputs $want)"
  exit 0
fi

version=$("$node" -p "require(process.argv[1]).version" "$root/package.json")
node_version=$("$node" -p "require(process.argv[1]).devDependencies.node" "$root/package.json")
[[ $("$node" --version) == "v$node_version" ]] || die "node_modules/.bin/node is $("$node" --version), package.json pins node $node_version: run npm ci"

build=$cache/build
rm -rf "$build"
mkdir -p "$build" "$cache/debs" "$cache/deps" "$out_dir"
layers=$build/layers
mkdir -p "$layers"/{base,node,deps,app}

# 1. The app: tsc into dist/, with the JSON assets the code reads by URL (the workflow bundle comes after the dependencies).
app=$layers/app/app
say "compiling (tsc -p tsconfig.build.json)"
if ! "$root/node_modules/.bin/tsc" -p "$root/tsconfig.build.json" --outDir "$app/dist"; then
  # tsc emits even with type errors; a working tree mid-change may still want an image to try.
  [[ ${SCW_KARPENTER_IMAGE_IGNORE_TYPE_ERRORS:-} == 1 ]] || die "type errors (SCW_KARPENTER_IMAGE_IGNORE_TYPE_ERRORS=1 builds anyway)"
  say "warning: building despite type errors (SCW_KARPENTER_IMAGE_IGNORE_TYPE_ERRORS=1)"
fi
(cd "$root" && find "${existing_dirs[@]}" -type f -name '*.json' -not -path 'scaleway/simulator/*' -print0) |
  while IFS= read -r -d '' f; do mkdir -p "$app/dist/$(dirname "$f")" && cp "$root/$f" "$app/dist/$f"; done
for entry in "$app"/dist/*; do
  name=$(basename "$entry")
  [[ " ${product_dirs[*]} " == *" $name "* ]] || die "dist/$name is not a product directory: something in the product imports it"
done
[[ ! -e $app/dist/scaleway/simulator ]] || die "the product imports scaleway/simulator"
[[ -f $app/dist/cli/main.js ]] || say "warning: dist/cli/main.js is missing (no cli/main.ts yet): the entrypoint will not start"
printf '{\n  "name": "scw-karpenter",\n  "version": "%s",\n  "private": true,\n  "type": "module"\n}\n' "$version" >"$app/package.json"

# 2. Production dependencies only, per lock file; no install scripts.
deps_key=$( (cat "$root/package-lock.json"; sed -n '/"dependencies"/,/}/p' "$root/package.json"; cat "$here/build.sh") | sha256sum | cut -c1-16)
deps=$cache/deps/$deps_key
if [[ ! -d $deps/node_modules ]]; then
  say "installing production dependencies (npm ci --omit=dev --ignore-scripts)"
  rm -rf "$deps.tmp" && mkdir -p "$deps.tmp"
  cp "$root/package.json" "$root/package-lock.json" "$deps.tmp/"
  (cd "$deps.tmp" && PATH="$root/node_modules/.bin:$PATH" npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >&2)
  bridge=$deps.tmp/node_modules/@temporalio/core-bridge
  [[ -f $bridge/releases/x86_64-unknown-linux-gnu/index.node ]] || die "@temporalio/core-bridge has no linux-x64 binary"
  find "$bridge/releases" -mindepth 1 -maxdepth 1 -not -name x86_64-unknown-linux-gnu -exec rm -rf {} +
  rm -rf "$bridge/sdk-core" "$bridge/src" "$bridge/Cargo.toml" "$bridge/Cargo.lock" "$bridge/scripts"
  # Other platforms' native packages, TypeScript sources and declarations, source maps: not run here.
  rm -rf "$deps.tmp"/node_modules/@swc/core-linux-x64-musl "$deps.tmp"/node_modules/.package-lock.json
  find "$deps.tmp/node_modules" -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' \) -delete
  rm -rf "$deps" && mv "$deps.tmp" "$deps"
fi
mkdir -p "$layers/deps/app"
cp -a "$deps/node_modules" "$layers/deps/app/node_modules"

# The workflow bundle, from the compiled workflows and the production dependencies they import.
say "bundling workflows"
ln -s "$deps/node_modules" "$app/node_modules"
"$node" --import tsx "$here/bundle-workflows.ts" "$app/dist"
rm "$app/node_modules"

# 3. Node itself.
mkdir -p "$layers/node/nodejs/bin"
cp "$root/node_modules/node/bin/node" "$layers/node/nodejs/bin/node"

# 4. The base: C runtime and CA bundle from pinned Debian packages, users, no shell.
base=$layers/base
debroot=$build/debroot
mkdir -p "$debroot"
while read -r pkg pkg_version arch sha; do
  [[ -z $pkg || $pkg == \#* ]] && continue
  deb=$cache/debs/${pkg}_${pkg_version//:/%3a}_${arch}.deb
  if [[ ! -f $deb ]] || [[ $(sha256sum "$deb" | cut -d' ' -f1) != "$sha" ]]; then
    say "fetching $pkg=$pkg_version (apt-get download)"
    tmp=$(mktemp -d "$cache/debs/.fetch.XXXXXX")
    if ! (cd "$tmp" && apt-get download "$pkg=$pkg_version" >/dev/null 2>"$tmp/err"); then
      cat "$tmp/err" >&2
      die "$pkg $pkg_version is no longer served (candidate now: $(apt-cache policy "$pkg" | sed -n 's/ *Candidate: //p')): update tools/image/debian-packages.lock"
    fi
    mv "$tmp"/*.deb "$deb" && rm -rf "$tmp"
  fi
  got=$(sha256sum "$deb" | cut -d' ' -f1)
  [[ $got == "$sha" ]] || die "$deb: sha256 $got, the lock says $sha"
  dpkg-deb -x "$deb" "$debroot/$pkg"
  # The licence goes with the files (libgcc-s1 and libstdc++6 point theirs at gcc-12-base, not taken).
  if [[ -f $debroot/$pkg/usr/share/doc/$pkg/copyright ]]; then
    mkdir -p "$base/usr/share/doc/$pkg"
    cp "$debroot/$pkg/usr/share/doc/$pkg/copyright" "$base/usr/share/doc/$pkg/copyright"
  fi
done <"$here/debian-packages.lock"
mkdir -p "$base/lib/x86_64-linux-gnu" "$base/usr/lib/x86_64-linux-gnu" "$base/etc/ssl/certs" "$base/etc/ld.so.conf.d"
cp -a "$debroot/libc6/lib64" "$base/lib64"
cp -a "$debroot/libc6/lib/x86_64-linux-gnu/." "$base/lib/x86_64-linux-gnu/"
cp -a "$debroot/libc6/etc/ld.so.conf.d/." "$base/etc/ld.so.conf.d/"
cp -a "$debroot/libgcc-s1/lib/x86_64-linux-gnu/." "$base/lib/x86_64-linux-gnu/"
cp -a "$debroot/libstdc++6/usr/lib/x86_64-linux-gnu/." "$base/usr/lib/x86_64-linux-gnu/"
# update-ca-certificates would build this at install time: the same bundle, in name order.
find "$debroot/ca-certificates/usr/share/ca-certificates" -name '*.crt' -print0 | sort -z | xargs -0 cat >"$base/etc/ssl/certs/ca-certificates.crt"
[[ -s $base/etc/ssl/certs/ca-certificates.crt ]] || die "empty CA bundle"
cp "$here/passwd" "$here/group" "$here/nsswitch.conf" "$base/etc/"
printf 'PRETTY_NAME="scw-karpenter %s (Debian 12 runtime, distroless-style)"\nNAME="scw-karpenter"\nVERSION_ID="%s"\nID=scw-karpenter\nID_LIKE=debian\n' "$version" "$version" >"$base/etc/os-release"
mkdir -p "$base/home" "$build/owned/home/nonroot" "$build/owned/tmp"
for forbidden in bin sbin usr/bin usr/sbin; do [[ ! -e $base/$forbidden ]] || die "$forbidden/ in the base layer"; done

# Reproducible layer tars: sorted names, mtime 0, owner root (home and /tmp added with their own owner and mode).
tar_flags=(--sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 --format=posix
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime --mode=u+w,go-w,a+rX)
make_layer() {
  local dir=$1 tarball=$2
  tar "${tar_flags[@]}" -C "$dir" -cf "$tarball" .
}
make_layer "$base" "$build/base.tar"
tar --sort=name --mtime=@0 --numeric-owner --owner=65532 --group=65532 --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime --mode=0700 --no-recursion -C "$build/owned" -rf "$build/base.tar" ./home/nonroot
tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime --mode=1777 --no-recursion -C "$build/owned" -rf "$build/base.tar" ./tmp
make_layer "$layers/node" "$build/node.tar"
make_layer "$layers/deps" "$build/deps.tar"
make_layer "$layers/app" "$build/app.tar"

# 5. The OCI image.
say "writing the OCI image (umoci)"
oci=$build/oci
ref="$oci:$version"
umoci init --layout "$oci"
umoci new --image "$ref"
add() {
  umoci raw add-layer --image "$ref" --history.created "$epoch" --history.created_by "tools/image/build.sh: $2" "$1"
}
add "$build/base.tar" "C runtime, CA bundle and users from $(awk '!/^#/ && NF {printf "%s%s=%s", sep, $1, $2; sep=" "}' "$here/debian-packages.lock")"
add "$build/node.tar" "node $node_version (npm package node)"
add "$build/deps.tar" "production node_modules (npm ci --omit=dev)"
add "$build/app.tar" "dist (tsc -p tsconfig.build.json) and the workflow bundle"
umoci config --image "$ref" --no-history --created "$epoch" --author "scw-karpenter" --architecture amd64 --os linux \
  --config.user 65532:65532 --config.workingdir /app \
  --config.entrypoint /nodejs/bin/node --config.entrypoint /app/dist/cli/main.js --config.cmd watcher \
  --config.env PATH=/nodejs/bin --config.env NODE_ENV=production --config.env WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
  --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --config.label org.opencontainers.image.title=scw-karpenter \
  --config.label "org.opencontainers.image.description=Karpenter-style GPU node provisioning on Scaleway: watcher, Temporal worker and CLI" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label org.opencontainers.image.licenses=Apache-2.0 \
  --config.label org.opencontainers.image.source=https://github.com/scw-karpenter/scw-karpenter \
  --config.label "org.opencontainers.image.base.name=scratch (tools/image/debian-packages.lock)"
umoci gc --layout "$oci"
# The layout says only the tag; the archive's index names the image in full, as podman and skopeo load it.
"$node" -e '
  const fs = require("node:fs");
  const [file, name] = process.argv.slice(1);
  const index = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const m of index.manifests) m.annotations = { ...m.annotations, "org.opencontainers.image.ref.name": name };
  fs.writeFileSync(file, JSON.stringify(index));
' "$oci/index.json" "localhost/scw-karpenter:$version"
tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime --mode=u+w,go-w,a+rX \
  -C "$oci" -cf "$archive.tmp" oci-layout index.json blobs
mv "$archive.tmp" "$archive"
printf '%s\n' "$want" >"$stamp"
digest=$("$node" -p 'JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).manifests[0].digest' "$oci/index.json")
bytes=$(stat -c %s "$archive")
uncompressed=$(cat "$build"/{base,node,deps,app}.tar | wc -c)
say "built $archive in $((SECONDS - started)) s"
say "image scw-karpenter:$version  manifest $digest"
say "archive $(numfmt --to=iec "$bytes") ($bytes bytes), layers uncompressed $(numfmt --to=iec "$uncompressed")"
for l in base node deps app; do say "  layer $l: $(numfmt --to=iec "$(stat -c %s "$build/$l.tar")") uncompressed"; done
printf '%s\n' "$digest" >"$out_dir/scw-karpenter-oci.digest"
