# genesys-eventbridge-exporter on an empty base image: the binary, the CA
# bundle it verifies Genesys Cloud with, and nothing else (no shell, no package
# manager, no libraries). The binary is built outside the image, as the
# Prometheus exporters' images are, and linked statically. One command does
# it all from a fresh clone (the static build for x86_64-unknown-linux-gnu, in
# target/static/, the
# host's CA bundle copied into target/, then podman, docker or buildah build):
#
#   scripts/image                  # genesys-eventbridge-exporter:VERSION
#
# .dockerignore sends only those two files to the build.
FROM scratch

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown

LABEL org.opencontainers.image.title="genesys-eventbridge-exporter" \
      org.opencontainers.image.description="Prometheus exporter for Genesys Cloud EventBridge consumer lag" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.documentation="README.md, section Deploy"

# Mozilla's CA certificates as the build host's distribution packages them
# (Debian, Ubuntu: ca-certificates), at the path every TLS library looks at
# first. Rebuild the image to refresh them; mount another bundle and set
# SSL_CERT_FILE to trust a private CA.
COPY target/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY target/static/x86_64-unknown-linux-gnu/release/genesys-eventbridge-exporter /bin/genesys-eventbridge-exporter

# nobody:nogroup. The exporter writes no file, so the root file system can be
# mounted read-only.
USER 65534:65534
EXPOSE 9864
ENTRYPOINT ["/bin/genesys-eventbridge-exporter"]
