# gcs2s3 container image: one image for every command (`pull`, `serve`,
# `backfill`, `verify`, `copy`), chosen by the container's arguments:
#   docker run IMAGE                 -> gcs2s3 pull (the default CMD)
#   docker run IMAGE serve           -> gcs2s3 serve
#   docker run IMAGE backfill gs://BUCKET/PREFIX
#
# scripts/reproduce-image.sh replays this file's stages without a Docker
# engine (it reads the FROM/WORKDIR/ENV/COPY/RUN/ENTRYPOINT/CMD lines below),
# and test/unit/deploy/dockerfile.test.ts checks its invariants: keep to those
# instructions, exec form, and explicit COPY sources.

# Node 24 LTS on Debian (glibc): @node-rs/crc32 installs its prebuilt
# linux-*-gnu binary as an optional dependency; no compiler is needed.
ARG NODE_IMAGE=node:24-bookworm-slim

# 1. Build: all dependencies (esbuild, tsx), bundle src/ into dist/ (scripts/build.ts,
# docs/decisions/bundle.md): fewer, larger files load faster than node_modules' thousands.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: esbuild's binary comes as its optional platform package
# (@esbuild/linux-*), and no dependency builds native code.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.ts ./scripts/build.ts
COPY src ./src
RUN npm run build

# 2. Production dependencies only, from the same lock file.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. Runtime: the bundle and production node_modules, nothing else. The bundle
# leaves a few packages to node_modules (native code, files read at run time:
# EXTERNAL in scripts/build.ts); the rest of node_modules is never loaded.
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
# package.json marks dist/*.js as ES modules ("type": "module"). Files stay
# owned by root: the process cannot rewrite its own code.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The official image's unprivileged user (uid 1000).
USER node
# Exec form: node is PID 1 and receives Cloud Run's SIGTERM itself; the CLI
# stops taking work, drains for a few seconds, aborts open multipart uploads
# and exits within Cloud Run's 10 s. No shell, no init wrapper: nothing to forward.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["pull"]
