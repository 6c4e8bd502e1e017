# syntax=docker/dockerfile:1
# PhoneGate's image: only the compiled dist/, package.json and the production dependencies reach it.
# test/process/production-install.test.ts runs what this file runs (no Docker needed): keep them in step.
ARG NODE_VERSION=20

# 1. Compile src/ to dist/. Install scripts are skipped: tsc needs the type packages, not SQLite's binaries.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -b

# 2. Production dependencies only. better-sqlite3 and sqlite3 are built from source when no prebuilt binary fits, hence the tools.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts=false --no-audit --no-fund

# 3. What runs: no compiler, no build tools, no devDependencies, not root.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# No config key is set here: the environment wins over config.ini, so a key baked into the image would
# silently override a mounted config.ini. Set keys with `-e`/env_file, or mount /app/config.ini.
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# package.json says "type": "module": without it, node cannot load dist/.
COPY package.json ./
COPY --from=build /app/dist ./dist
# `npm run jwks` (or `node scripts/jwks.mjs`) in a running container prints the JWKS of its signing key;
# the scripts use dist/ as it is where no compiler is installed.
COPY scripts ./scripts
# State lives in the volume /data. The default [store] url, sqlite://data/state.sqlite, is relative to
# /app, so /app/data points there; a STORE_URL or [store] url of your own wins as usual.
RUN mkdir /data && chown node:node /data && ln -s /data /app/data
VOLUME /data
# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 3000
# No curl in a slim image: node asks /healthz itself. SLACK_PORT when set, else the default 3000. In Socket
# Mode /healthz is served only when a port is set: set SLACK_PORT=3000 there too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SLACK_PORT||3000)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself, not npm: SIGTERM from `docker stop` reaches the bot, which finishes and exits 0. It may
# need longer than docker stop's default 10 s: up to the longest declared timeout_seconds plus 15 s
# (45 s at most), after [slack] shutdown_grace_seconds, so give it `docker stop -t 60` (compose.yaml
# sets stop_grace_period).
# (`npm start` would also try to recompile src/, which is not in the image.) The same node flag as
# `npm start`: a 16 MB young generation, which V8 reads only at start (docs/performance.md).
CMD ["node", "--max-semi-space-size=8", "dist/main.js"]
