# Build wuye in the official Rust image, run it on a slim Debian with nothing else inside.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin wuye

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/wuye --create-home wuye
COPY --from=build /src/target/release/wuye /usr/local/bin/wuye
USER wuye
WORKDIR /var/lib/wuye
ENV WUYE_LISTEN=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/health/live || exit 1
ENTRYPOINT ["wuye"]
CMD ["serve"]
