# Stage 1: build the one-file binary with the same command CI runs.
FROM oven/bun:1.4.5 AS build
WORKDIR /app
COPY package.json bun.lock bunfig.toml tsconfig.json ./
COPY patches ./patches
RUN bun install --frozen-lockfile
COPY src ./src
COPY drizzle ./drizzle
RUN bun run build && mkdir /data

# Stage 2: the binary alone (it carries its migrations, the embedded database engine and the
# Swagger UI). Distroless "cc" has the glibc the binary needs and nothing else; runs as non-root.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /app/dist/todo-api /usr/local/bin/todo-api
COPY --from=build --chown=nonroot:nonroot /data /data
ENV NODE_ENV=production PORT=8000 DATA_DIR=/data
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/todo-api"]
CMD ["serve"]
