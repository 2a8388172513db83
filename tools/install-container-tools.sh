#!/usr/bin/env bash
# Installs the Debian packages that build and run the image (npm run image, podman run):
# umoci assembles the OCI layout, podman and runc run it, skopeo copies it to a registry.
# Idempotent: installs only what is missing. Needs root (or sudo) and apt-get.
set -euo pipefail
declare -A package_of=([umoci]=umoci [podman]=podman [runc]=runc [skopeo]=skopeo [dpkg-deb]=dpkg [gzip]=gzip [tar]=tar)
missing=()
for tool in "${!package_of[@]}"; do command -v "$tool" >/dev/null || missing+=("${package_of[$tool]}"); done
(( ${#missing[@]} )) || exit 0
sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "[tools] apt-get install ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
