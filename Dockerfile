# flexcp container image. Not built in CI: no Docker engine runs on the
# project's machines, so this file is written with care but untested there.
#
#   docker build -t flexcp .
#   docker run --rm --privileged --network host \
#     -v /dev/hugepages:/dev/hugepages -v /etc/flexcp:/etc/flexcp \
#     flexcp --config /etc/flexcp/flexcp.toml
#
# DPDK needs hugepages (reserve them on the host), CAP_NET_ADMIN/CAP_SYS_ADMIN
# or --privileged, and for AF_XDP ports CAP_BPF and an unlimited memlock.

FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        ca-certificates curl gcc libc6-dev make pkg-config libdpdk-dev \
    && rm -rf /var/lib/apt/lists/*
# Go 1.26 is not in bookworm; bring it from the official image.
COPY --from=golang:1.26-bookworm /usr/local/go /usr/local/go
ENV PATH=/usr/local/go/bin:$PATH CGO_ENABLED=1
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -o /out/flexcp ./cmd/flexcp

FROM debian:bookworm-slim
# dpdk pulls in the runtime libraries and every PMD (librte-net-*).
RUN apt-get update && apt-get install -y --no-install-recommends dpdk \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/flexcp /usr/local/bin/flexcp
COPY examples /usr/share/flexcp/examples
EXPOSE 9750
ENTRYPOINT ["/usr/local/bin/flexcp"]
CMD ["--config", "/etc/flexcp/flexcp.toml"]
