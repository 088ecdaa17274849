# Multi-stage build: a static binary on a distroless, non-root base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# Two binaries: redis-autoscaler (every program) and redis-exporter (the
# exporter alone, without the API-server and controller libraries: the
# lean one for sidecars and the bundle's exporter).
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/redis-autoscaler/redis-autoscaler/exporter.Version=${VERSION}" \
    -o /out/ ./cmd/redis-autoscaler ./cmd/redis-exporter

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/redis-autoscaler /out/redis-exporter /usr/local/bin/
USER 65532:65532
EXPOSE 9121
ENTRYPOINT ["/usr/local/bin/redis-autoscaler"]
CMD ["exporter"]
