# Builds both binaries (switchboard, switchboard-admin) into a small runtime image.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin switchboard --bin switchboard-admin

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/switchboard switchboard && mkdir -p /var/lib/switchboard && chown switchboard /var/lib/switchboard
COPY --from=build /src/target/release/switchboard /src/target/release/switchboard-admin /usr/local/bin/
USER switchboard
WORKDIR /var/lib/switchboard
ENV SWITCHBOARD_PROFILE=production SWITCHBOARD__SERVER__HOST=0.0.0.0 SWITCHBOARD__DATA_DIR=/var/lib/switchboard
EXPOSE 8080
CMD ["switchboard"]
