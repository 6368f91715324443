# syntax=docker/dockerfile:1.7
# The api image (build context: the repository root). Multi-stage: the workspace is installed once, `pnpm deploy`
# copies @dawg/api with only its production dependencies (workspace packages included) into /out, and the runtime
# stage runs it as the unprivileged `node` user. The packages ship TypeScript sources: the build stage bundles the
# api (scripts/build-server.mjs, esbuild) into /out/dist/*.mjs, which runs with plain `node` (no loader in the
# process: about half the resident memory). tsx stays in the image for the migration command only.
#   docker build -f deploy/docker/api.Dockerfile -t dawg-api .
ARG NODE_VERSION=20.19
FROM node:${NODE_VERSION}-bookworm-slim AS base
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true
RUN corepack enable && corepack prepare pnpm@12.4.2 --activate

FROM base AS build
WORKDIR /repo
# Manifests first: the dependency layer is rebuilt only when they change.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/db/package.json packages/db/
COPY packages/api/package.json packages/api/
RUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm fetch --frozen-lockfile
COPY tsconfig.base.json ./
COPY scripts/build-server.mjs scripts/
COPY packages/shared packages/shared
COPY packages/db packages/db
COPY packages/api packages/api
RUN --mount=type=cache,id=pnpm,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline --filter @dawg/api... \
 && pnpm --filter @dawg/api deploy --prod /out \
 && rm -rf /out/test \
 && node scripts/build-server.mjs api --outdir /out/dist

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=3000
# tsx (the TypeScript loader, for the migration command) at the repository's version; curl for the health check.
RUN npm install -g tsx@4.23.15 && npm cache clean --force \
 && apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build --chown=node:node /out /app
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/health" > /dev/null || exit 1
# Migrations run before a deploy goes live (Railway preDeployCommand), with the same image:
#   node --import tsx node_modules/@dawg/db/src/cli.ts migrate
# The package's `start` script (packages/api/package.json; keep the two the same): the build, a small young
# generation (V8's default semi-space is sized for throughput, not for a mostly idle process; see docs/decisions.md).
CMD ["node", "--max-semi-space-size=2", "dist/main.mjs"]
