# What mcr.microsoft.com/dotnet/runtime-deps:10.0 holds, from Debian's packages, for machines that reach no registry:
# the native libraries .NET needs (no ICU: the services run with invariant globalization) and the non-root user `app`
# (uid 1654, as in the official images).
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libc6 libgcc-s1 libssl3 libstdc++6 tzdata zlib1g \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && groupadd --gid 1654 app \
 && useradd --uid 1654 --gid app --no-create-home --home-dir /app --shell /usr/sbin/nologin app
ENV APP_UID=1654 DOTNET_RUNNING_IN_CONTAINER=true
