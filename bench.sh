#!/usr/bin/env bash
# Runs every benchmark scenario at full size and writes bench/results/latest.md and the charts (PNG).
#   ./bench.sh            full sizes (several minutes)
#   ./bench.sh --smoke    tiny sizes: proves the bench works, measures nothing
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build bench/Conclave.Bench -c Release
dotnet bench/Conclave.Bench/bin/Release/net10.0/Conclave.Bench.dll run --out bench/results "$@"
