# syntax=docker/dockerfile:1
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# The lockfile lists the client workspace: npm ci needs its package.json.
COPY packages/client/package.json ./packages/client/
# npm ci's prepare builds with it (and stamps the build, see npm start).
COPY scripts/build.mjs ./scripts/
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
# The console (built by Vite into dist/console, served at /).
COPY console ./console
RUN npm ci --no-audit --no-fund

# The agent sidecar, `hotswap agent` (docs/agent.md): docker build --target agent -t hotswap-agent .
# Without --target, the build ends at the last stage: the server.
FROM node:20-bookworm-slim AS agent
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/client/package.json ./packages/client/
# --omit=optional leaves out embedded PostgreSQL's binaries (~60 MB): only the server's embedded mode runs them.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /app/dist/src ./dist/src
# The instance token and the last configs: keep it across restarts to stay the same instance.
RUN mkdir -p /var/lib/hotswap-agent && chown node:node /var/lib/hotswap-agent && chmod 700 /var/lib/hotswap-agent
VOLUME /var/lib/hotswap-agent
USER node
# Arguments after the image name are the agent's flags; a later --state-dir overrides this one.
ENTRYPOINT ["node", "/app/bin/hotswap.js", "agent", "--state-dir", "/var/lib/hotswap-agent"]

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/client/package.json ./packages/client/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY --from=build /app/dist ./dist
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:4000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "./dist/src/instrumentation.js", "dist/src/main.js"]
