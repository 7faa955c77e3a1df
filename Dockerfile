# syntax=docker/dockerfile:1
# Build: docker build -t witaj .
# The FAQ in knowledge/faq is embedded in the binary; WITAJ_FAQ_DIR can point
# to a mounted folder instead.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary: no libc needed in the runtime image.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/witaj ./cmd/witaj
# Refuse to build an image whose built-in FAQ has errors.
RUN /out/witaj faq lint

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/witaj /usr/local/bin/witaj
USER nonroot:nonroot
# 8080: webhook (WITAJ_LISTEN); 9090: health and metrics (WITAJ_ADMIN_LISTEN,
# which must then listen beyond loopback, e.g. :9090).
EXPOSE 8080 9090
# Ready means Redis reachable and the FAQ loaded; distroless has no curl,
# so the binary asks its own admin listener.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["/usr/local/bin/witaj", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/witaj"]
CMD ["serve"]
