#!/bin/sh
# Deeper differential run: thousands of seeds against the host CPU under KVM.
# usage: tests/cpu/run-many-seeds.sh BUILD_DIR [seeds [insns-per-seed [groups]]]
# groups: comma-separated generator groups (int, x87, sse; default int)
set -e
build=${1:?usage: $0 BUILD_DIR [seeds [insns [groups]]]}
seeds=${2:-20000}
insns=${3:-32}
groups=${4:-int}
exec "$build/tests/cpu/difftest" 1000000 "$seeds" "$insns" 64 "$groups"
