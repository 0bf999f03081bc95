# syntax=docker/dockerfile:1
#
# ecs-attributes-controller image.
#   docker build -t registry.example.com/ecs-attributes-controller:0.1.0 .
#
# Stages: build (all deps, compile TypeScript, pack what npm would publish) -> deps (production
# deps only) -> runtime (distroless Node 24: no shell, no package manager, non-root).
# test/e2e/packaging/runtime-stage.test.ts repeats the pack + `npm ci --omit=dev` + `node dist/main.js`
# steps without Docker, so the image contents are checked even where no Docker engine runs.

ARG NODE_VERSION=24.21.0
# Base images, overridable for registry mirrors where Docker Hub or gcr.io are slow or blocked:
#   docker build --build-arg BUILD_IMAGE=<mirror>/node:24.21.0-bookworm-slim \
#                --build-arg RUNTIME_IMAGE=<mirror>/distroless/nodejs24-debian12:nonroot .
# BUILD_IMAGE (build and deps stages) must be a Debian-based Node 24 image with npm.
ARG BUILD_IMAGE=node:${NODE_VERSION}-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot
# The image's version label; keep equal to package.json "version" (dockerfile.test.ts checks it).
ARG VERSION=0.1.0

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
ENV npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
COPY package.json package-lock.json ./
# No dependency needs an install script (see "allowScripts" in package.json).
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY crds ./crds
RUN npm run build
# Exactly the files npm would publish ("files" in package.json), plus the lockfile for npm ci.
RUN npm pack --ignore-scripts --pack-destination /tmp \
 && mkdir /app \
 && tar -xzf /tmp/ecs-attributes-controller-*.tgz -C /app --strip-components=1 \
 && cp package-lock.json /app/

FROM ${BUILD_IMAGE} AS deps
WORKDIR /app
ENV npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
COPY --from=build /app ./
# --help loads every module: fail the build here, not at runtime, if production deps are incomplete.
RUN npm ci --omit=dev --ignore-scripts \
 && npm cache clean --force \
 && node dist/main.js --help >/dev/null

FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION
LABEL org.opencontainers.image.title="ecs-attributes-controller" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production
# Owned by root and read-only to the controller's user.
COPY --from=deps /app ./
# distroless "nonroot" user; numeric so runAsNonRoot can verify it.
USER 65532:65532
# 8080 metrics, 8081 /healthz and /readyz (the Helm chart's defaults).
EXPOSE 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "dist/main.js"]
