# Builds both binaries (switchboard, switchboard-admin) into a small runtime image.
#
# Dependency caching, cargo-chef style: `planner` reduces the workspace to a recipe
# (manifests, lockfile, target layout); `build` compiles the dependencies from the
# recipe alone, a layer that stays cached until Cargo.toml or Cargo.lock change,
# then compiles the project's own crates over it. .dockerignore keeps target/,
# data/ (development keys and database) and .git out of the build context.

FROM rust:1.95-bookworm AS chef
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config && rm -rf /var/lib/apt/lists/* \
    && cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
# The workspace's build settings (SQLite's compile flags) apply to the dependencies too.
COPY .cargo .cargo
RUN cargo chef cook --release --locked --recipe-path recipe.json -p switchboard-server -p switchboard-admin
COPY . .
RUN cargo build --release --locked --bin switchboard --bin switchboard-admin

FROM debian:bookworm-slim
# openssl: `openssl rand -base64 32` makes keys inside the image (as does
# `switchboard-admin keys generate`).
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates openssl && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/switchboard switchboard && mkdir -p /var/lib/switchboard && chown switchboard /var/lib/switchboard
COPY --from=build /src/target/release/switchboard /src/target/release/switchboard-admin /usr/local/bin/
USER switchboard
WORKDIR /var/lib/switchboard
ENV SWITCHBOARD_PROFILE=production SWITCHBOARD__SERVER__HOST=0.0.0.0 SWITCHBOARD__DATA_DIR=/var/lib/switchboard
EXPOSE 8080
# The binary's own probe (one HTTP GET of /health/ready): no shell, curl or bash needed.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=10 CMD ["switchboard", "health"]
# SIGTERM lets in-flight requests finish within server.shutdown_timeout_s.
STOPSIGNAL SIGTERM
CMD ["switchboard"]
