# syntax=docker/dockerfile:1.7
# The worker image (build context: the repository root). Same layout as the api image, plus ffmpeg (mastering,
# analysis, mixdowns). Health and metrics on WORKER_PORT (3001).
#   docker build -f deploy/docker/worker.Dockerfile -t dawg-worker .
ARG NODE_VERSION=20.19
FROM node:${NODE_VERSION}-bookworm-slim AS base
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true
RUN corepack enable && corepack prepare pnpm@12.4.2 --activate

FROM base AS build
WORKDIR /repo
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/db/package.json packages/db/
COPY packages/worker/package.json packages/worker/
RUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm fetch --frozen-lockfile
COPY tsconfig.base.json ./
COPY scripts/build-server.mjs scripts/
COPY packages/shared packages/shared
COPY packages/db packages/db
COPY packages/worker packages/worker
RUN --mount=type=cache,id=pnpm,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline --filter @dawg/worker... \
 && pnpm --filter @dawg/worker deploy --prod /out \
 && rm -rf /out/test \
 && node scripts/build-server.mjs worker --outdir /out/dist

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production WORKER_PORT=3001
RUN npm install -g tsx@4.23.15 && npm cache clean --force \
 && apt-get update && apt-get install -y --no-install-recommends ffmpeg curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build --chown=node:node /out /app
USER node
EXPOSE 3001
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${WORKER_PORT}/health" > /dev/null || exit 1
# The package's `start` script (packages/worker/package.json; keep the two the same): the build, a small young
# generation (V8's default semi-space is sized for throughput, not for a mostly idle process; see docs/decisions.md).
CMD ["node", "--max-semi-space-size=2", "dist/main.mjs"]
