# One image per service, from its framework-dependent publish folder (the build context), which scripts/images.sh
# fills with `dotnet publish --no-build` and deploy/healthcheck.sh:
#   docker build -f deploy/service.Dockerfile --build-arg APP=Streaming.Ingest -t streaming/ingest artifacts/publish/ingest
# BASE_IMAGE is the official ASP.NET Core runtime image in production; scripts/images.sh passes a locally built one.
# The process runs as the non-root user `app`; its files belong to root, so it cannot change them. The health check
# asks the service's readiness on 127.0.0.1 inside the container (HEALTHCHECK_PORT, HEALTHCHECK_PATH).
ARG BASE_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0
FROM ${BASE_IMAGE}
ARG APP
# DOTNET_TC_CallCountThreshold and DOTNET_ThreadPool_UnfairSemaphoreSpinLimit: as ./run.sh sets them (README, "Several
# instances and a sharded fleet", "The embedded broker's walk").
ENV APP=${APP} \
    DOTNET_TC_CallCountThreshold=2000 \
    DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 \
    Health__Port=8081 \
    HEALTHCHECK_PORT=8081 \
    Logging__Format=json
WORKDIR /app
COPY . /app/
# The one folder the process may write to (the API keeps its tokens file there, on a volume).
RUN mkdir -p /data && chown 1654:1654 /data
USER 1654
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 CMD ["/app/healthcheck.sh"]
ENTRYPOINT ["/bin/sh", "-c", "exec dotnet \"/app/$APP.dll\" \"$@\"", "--"]
