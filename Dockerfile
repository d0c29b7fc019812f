# bardbot's container image: multi-stage, Debian slim (tfjs-node needs glibc;
# Alpine's musl does not work), run as the unprivileged `node` user under
# tini. Untested here: these machines have no Docker engine. The build steps
# are the ones CI runs on a clean copy (npm ci, npm run build).
#   docker build -t bardbot .
#   docker run --init -e DISCORD_MODE=http -e DISCORD_PUBLIC_KEY=... -e HTTP_HOST=0.0.0.0 -p 8080:8080 bardbot

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The optional tfjs-node downloads libtensorflow here; where it cannot, the wasm backend is used.
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production LOG_FORMAT=json HTTP_HOST=0.0.0.0 MODELS_DIR=/app/models DATA_DIR=/app/data RUNS_DIR=/app/runs
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/scripts/launch.sh ./scripts/
# The shipped models and corpus seed the volumes the first time they are mounted empty.
COPY --from=build --chown=node:node /app/models ./models
COPY --from=build --chown=node:node /app/data ./data
RUN mkdir -p runs && chown node:node runs
USER node
# The registry is shared by every replica (publish is an atomic rename, so a shared filesystem works).
VOLUME ["/app/models", "/app/data", "/app/runs"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
# launch.sh sets glibc's malloc thresholds (RSS stays flat over hot-swaps), then execs node.
CMD ["sh", "scripts/launch.sh", "node", "dist/src/main.js"]
