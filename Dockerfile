# fazlab in a container: one image for the lab's control channel and for every device's
# `fazlab node` (fazlab export compose|k8s|containerlab writes the command of each container).
# Small: the runtime stage holds Node and fazlab's bundle only (no node_modules, no compiler).
# Non-root: it runs as the image's `node` user (uid 1000) and needs no capability. The documented
# ports below 1024 (TCP/21, TCP/22, TCP/25, TCP/53, UDP/53, TCP/80, UDP/123, TCP/389, UDP/389,
# TCP/443, TCP/445, TCP/514, UDP/514, TCP/541, TCP/554, UDP/554) open with the network namespace's sysctl
# net.ipv4.ip_unprivileged_port_start=0, which Docker sets for every container by default and the
# exported Compose and Kubernetes files set explicitly. Where that sysctl is not allowed, add the
# capability NET_BIND_SERVICE and give it to Node: build with --build-arg BIND_CAPABILITY=1 (setcap
# on the node binary) and run with --cap-add NET_BIND_SERVICE. See docs/firewall-regression.md.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the pinned Node devDependency is not needed here (this image has Node 24),
# and the build runs below, once the sources are in.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
RUN npx tsc -p tsconfig.build.json && npm run bundle

FROM ${NODE_IMAGE}
ARG BIND_CAPABILITY=0
RUN if [ "$BIND_CAPABILITY" = "1" ]; then \
      apt-get update && apt-get install -y --no-install-recommends libcap2-bin && \
      setcap cap_net_bind_service=+ep "$(command -v node)" && \
      apt-get purge -y libcap2-bin && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/dist/bundle ./dist/bundle
COPY bin bin
RUN mkdir -p /var/lib/fazlab /etc/fazlab && chown node:node /var/lib/fazlab
USER node
WORKDIR /var/lib/fazlab
ENV NODE_ENV=production
ENTRYPOINT ["node", "/app/bin/fazlab.js"]
CMD ["--help"]
