# syntax=docker/dockerfile:1
# scw-karpenter's image for users with Docker (or any BuildKit builder): the same
# image `npm run image` (tools/image/build.sh) assembles offline, on Google's
# distroless Node 24 base instead of Debian packages. One image, two entrypoints:
#   docker build -t scw-karpenter:0.1.0 .
#   docker run --rm scw-karpenter:0.1.0 --version
#   (the chart runs `watcher` and `worker`; `catalog`, `replay`, ... are the CLI)
# Not built on the project's own machines: they reach no container registry, so
# neither base image can be pulled there. test/integration/container.test.ts keeps
# this final stage's USER, WORKDIR, ENTRYPOINT, CMD, ENV and LABELs equal to the
# config of the image build.sh builds (bump the version label with package.json).

# --- build: the app compiled by tsc, its JSON assets, the workflows prebundled ---
FROM node:24-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts stay off, as in build.sh: esbuild and swc find their native
# binaries through optional dependencies, Temporal's bridge ships its own.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY workflows ./workflows
COPY activities ./activities
COPY watcher ./watcher
COPY worker ./worker
COPY runtime ./runtime
COPY scaleway ./scaleway
COPY kube ./kube
COPY bootstrap ./bootstrap
COPY cli ./cli
COPY tools/image/bundle-workflows.ts ./tools/image/bundle-workflows.ts
RUN ./node_modules/.bin/tsc -p tsconfig.build.json \
 && find workflows activities watcher worker runtime scaleway kube bootstrap cli -type f -name '*.json' -not -path 'scaleway/simulator/*' -exec cp --parents {} dist/ \; \
 && node --import tsx tools/image/bundle-workflows.ts dist \
 && test ! -e dist/scaleway/simulator \
 && node -e 'const p = require("./package.json"); console.log(JSON.stringify({ name: p.name, version: p.version, private: true, type: "module" }, null, 2))' > dist.package.json

# --- deps: production dependencies only, the Temporal bridge of the target platform only ---
FROM node:24-bookworm AS deps
ARG TARGETARCH=amd64
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && case "$TARGETARCH" in amd64) keep=x86_64-unknown-linux-gnu ;; arm64) keep=aarch64-unknown-linux-gnu ;; *) echo "no Temporal bridge for $TARGETARCH" >&2; exit 1 ;; esac \
 && bridge=node_modules/@temporalio/core-bridge \
 && test -f "$bridge/releases/$keep/index.node" \
 && find "$bridge/releases" -mindepth 1 -maxdepth 1 -not -name "$keep" -exec rm -rf {} + \
 && rm -rf "$bridge/sdk-core" "$bridge/src" "$bridge/Cargo.toml" "$bridge/Cargo.lock" "$bridge/scripts" node_modules/.package-lock.json \
 && find node_modules -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' \) -delete

# --- the image: distroless Node 24 (glibc, CA bundle, /etc/passwd with nonroot 65532; no shell, no package manager) ---
FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/dist.package.json ./package.json
ENV PATH=/nodejs/bin \
    NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.title=scw-karpenter \
      org.opencontainers.image.description="Karpenter-style GPU node provisioning on Scaleway: watcher, Temporal worker and CLI" \
      org.opencontainers.image.version=0.1.0 \
      org.opencontainers.image.licenses=Apache-2.0 \
      org.opencontainers.image.source=https://github.com/scw-karpenter/scw-karpenter
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli/main.js"]
CMD ["watcher"]
