# Tessera: release build, then a slim runtime image.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/tessera

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/tessera --create-home tessera
COPY --from=build /src/target/release/tessera /usr/local/bin/tessera
USER tessera
WORKDIR /var/lib/tessera
ENV TESSERA_LISTEN=0.0.0.0:8080 TESSERA_DATA_DIR=/var/lib/tessera
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/health/ready || exit 1
ENTRYPOINT ["tessera"]
CMD ["serve"]
