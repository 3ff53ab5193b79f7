# What mcr.microsoft.com/dotnet/aspnet:10.0 holds, for machines that reach no registry: the runtime-deps base plus the
# .NET and ASP.NET Core shared runtimes, copied from this machine's .NET installation (the context: its dotnet host,
# host/ and shared/ folders).
ARG RUNTIME_DEPS_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0
FROM ${RUNTIME_DEPS_IMAGE}
COPY . /usr/share/dotnet/
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet && dotnet --list-runtimes
