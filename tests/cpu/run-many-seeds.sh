#!/bin/sh
# Deeper differential run: thousands of seeds against the host CPU (KVM for
# 64-bit code, this process for 32- and 16-bit code and the exc group).
# usage: tests/cpu/run-many-seeds.sh BUILD_DIR [seeds [insns-per-seed [groups [mode]]]]
# groups: comma-separated generator groups (int, x87, sse, exc; default int)
# mode: 64, 32 or 16 (default 64)
set -e
build=${1:?usage: $0 BUILD_DIR [seeds [insns [groups [mode]]]]}
seeds=${2:-20000}
insns=${3:-32}
groups=${4:-int}
mode=${5:-64}
exec "$build/tests/cpu/difftest" 1000000 "$seeds" "$insns" "$mode" "$groups"
