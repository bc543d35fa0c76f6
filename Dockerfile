# syntax=docker/dockerfile:1
# vault-state's container image: the project's wheel installed into a venv on a slim Python base,
# run as a non-root user on a read-only root filesystem. docs/gitops.md explains the build:
#   docker build --build-arg SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)" -t vault-state:0.1.0 .
# Pin the base by digest too (python:3.11.14-slim-bookworm@sha256:...) for a byte-identical rebuild.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- builder: the wheel of this repository, and wheels of its dependencies -----------------------
FROM ${PYTHON_IMAGE} AS builder
ARG SOURCE_DATE_EPOCH=0
ARG PIP_VERSION=25.3
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m pip install --no-cache-dir "pip==${PIP_VERSION}"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY vault_state ./vault_state
# The wheel's file times come from SOURCE_DATE_EPOCH. pyhcl ships only an sdist: it is built into a
# (pure Python) wheel here, so the final stage installs wheels only and needs no build tools.
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /dist . \
 && python -m pip wheel --no-cache-dir --wheel-dir /dist/deps --find-links /dist vault-state==0.1.0

# --- final: a venv holding the wheels, nothing else from the builder -----------------------------
FROM ${PYTHON_IMAGE}
ARG SOURCE_DATE_EPOCH=0
LABEL org.opencontainers.image.title="vault-state" \
      org.opencontainers.image.description="Plan and apply a Vault/OpenBao server's configuration from a state file" \
      org.opencontainers.image.licenses="MPL-2.0"
# HOME and the temporary directory point at /tmp, which the pod mounts as an emptyDir: nothing is
# written to the image at run time (the root filesystem may be read-only). The .pyc files are
# compiled at install time (checked-hash .pyc, reproducible with SOURCE_DATE_EPOCH).
ENV PATH=/opt/vault-state/bin:${PATH} \
    HOME=/tmp \
    TMPDIR=/tmp \
    USER=vault-state \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN --mount=type=bind,from=builder,source=/dist,target=/dist \
    python -m venv --without-pip /opt/vault-state \
 && python -m pip --python /opt/vault-state/bin/python install --no-cache-dir --no-index \
      --find-links /dist --find-links /dist/deps vault-state==0.1.0 \
 && vault-state --version
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["vault-state"]
CMD ["--help"]
