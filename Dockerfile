# Two stages: build the release binary, then run it on a slim Debian.
FROM rust:1-bookworm AS build
WORKDIR /src
# libssl-dev for the bundled libpq (pq-sys "bundled"); no system libpq is needed.
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 seesac
COPY --from=build /src/target/release/seesac-api /usr/local/bin/seesac-api
USER seesac
ENV SEESAC_BIND=0.0.0.0:8080 RUST_LOG=info
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["seesac-api"]
CMD ["serve"]
