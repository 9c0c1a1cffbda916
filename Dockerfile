# syntax=docker/dockerfile:1
# The container image of a release, the default image of `kubectl airflow-reap cronjob`: the release's
# single executable (scripts/release.mjs: Node 24 with the whole app inside) on distroless with glibc
# (libstdc++ included, which Node needs), running as the distroless `nonroot` user 65532, with no
# shell and no package manager.
#
# The build context is the repository after the release archives were built into dist/release/ (the
# release workflow downloads the linux/amd64 and linux/arm64 ones there, then builds both platforms):
#   docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/airflow-reap/airflow-reap:VERSION .
#
# The executable unpacks the app into AIRFLOW_REAP_APP_CACHE on its first start; a pod with a
# read-only root file system mounts an emptyDir on /tmp for it (the manifests of `cronjob` do).

# Unpacking needs no emulation: it runs on the build machine's platform for every target.
FROM --platform=$BUILDPLATFORM debian:12-slim AS unpack
ARG TARGETOS
ARG TARGETARCH
WORKDIR /release
COPY dist/release/kubectl-airflow_reap_${TARGETOS}_${TARGETARCH}.tar.gz dist/release/kubectl-airflow_reap_${TARGETOS}_${TARGETARCH}.tar.gz.sha256 ./
RUN sha256sum -c kubectl-airflow_reap_${TARGETOS}_${TARGETARCH}.tar.gz.sha256 \
 && mkdir /out \
 && tar -xzf kubectl-airflow_reap_${TARGETOS}_${TARGETARCH}.tar.gz -C /out \
 && test -x /out/kubectl-airflow_reap

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="airflow-reap" \
      org.opencontainers.image.description="Finds and safely reaps zombie Airflow KubernetesPodOperator pods, overdue deferrable tasks and Jobs stuck terminating" \
      org.opencontainers.image.source="https://github.com/airflow-reap/airflow-reap" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=unpack /out/kubectl-airflow_reap /usr/local/bin/kubectl-airflow_reap
COPY --from=unpack /out/LICENSE /usr/share/doc/airflow-reap/LICENSE
ENV AIRFLOW_REAP_APP_CACHE=/tmp/airflow-reap
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kubectl-airflow_reap"]
CMD ["--help"]
