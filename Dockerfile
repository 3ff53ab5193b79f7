# One image per service: docker build --build-arg SERVICE=Ingest|Projector|Promoter .
# librdkafka comes from the official librdkafka.redist package, as on the development machines.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG SERVICE
WORKDIR /src
COPY . .
RUN dotnet publish src/Hosts/${SERVICE}/${SERVICE}.Host.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0
ARG SERVICE
ENV SERVICE_DLL=Streaming.${SERVICE}.Host.dll
WORKDIR /app
COPY --from=build /app .
ENTRYPOINT ["sh", "-c", "exec dotnet \"$SERVICE_DLL\""]
