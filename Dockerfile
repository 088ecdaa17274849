# Multi-stage build: a static binary on a distroless, non-root base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/redis-autoscaler/redis-autoscaler/exporter.Version=${VERSION}" \
    -o /out/redis-autoscaler ./cmd/redis-autoscaler

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/redis-autoscaler /usr/local/bin/redis-autoscaler
USER 65532:65532
EXPOSE 9121
ENTRYPOINT ["/usr/local/bin/redis-autoscaler"]
CMD ["exporter"]
