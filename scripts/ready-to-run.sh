#!/usr/bin/env bash
# Publishes executables of the built solution (Release, --no-build) ReadyToRun-compiled into artifacts/r2r/NAME and
# prints each one's entry assembly, one a line, for ./run.sh, ./bench.sh and the latency bench to start instead of the
# build output. Crossgen2 (the SDK's Microsoft.NETCore.App.Crossgen2 pack, restored with the projects, which set
# PublishReadyToRun) precompiles the service's own assemblies and its NuGet packages, so a process spends less CPU in
# the JIT while it runs; `dotnet build` and the tests do not pay for it. A later publish of unchanged assemblies
# recompiles nothing.
#   scripts/ready-to-run.sh NAME=PROJECT...   e.g. embedded=src/Embedded/Embedded.csproj
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

fail() { printf 'ready-to-run.sh: %s\n' "$*" >&2; exit 1; }

[ $# -gt 0 ] || fail "name at least one NAME=PROJECT"
for spec in "$@"; do
  name=${spec%%=*} project=${spec#*=}
  [ -n "$name" ] && [ -f "$project" ] || fail "'$spec' is not NAME=PROJECT with an existing project file"
  out=$repo/artifacts/r2r/$name
  dotnet publish "$project" -c Release -r linux-x64 --self-contained false --no-build -p:PublishReadyToRun=true \
    -nologo -v q -clp:ErrorsOnly -o "$out" >&2 || fail "dotnet publish $project failed (is the solution built in Release?)"
  assembly=$(sed -n 's/.*<AssemblyName>\(.*\)<\/AssemblyName>.*/\1/p' "$project" | head -1)
  echo "$out/${assembly:-Streaming.$(basename "$project" .csproj)}.dll"
done
