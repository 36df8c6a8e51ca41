#!/usr/bin/env bash
# Runs the benchmark harness (see bench/README.md): builds the proxy jar and the harness into their own build folder,
# installs HAProxy, sysbench and perf when missing (root + apt-get only), and runs every case. Extra arguments go to
# BenchMain, e.g. bench/run.sh --rounds 1 --seconds 5 --skip jmh
set -euo pipefail
cd "$(dirname "$0")/.."
# A build folder of its own, so a benchmark never races another build of the same tree.
BUILD_DIR="${BENCH_BUILD_DIR:-target-bench}"

missing=()
for tool in haproxy sysbench; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
# perf counts the proxy's and HAProxy's system calls in the profile section (Debian's package is linux-perf).
command -v perf >/dev/null 2>&1 || missing+=(linux-perf)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing ${missing[*]} with apt-get"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; }; then
      echo "bench: could not install ${missing[*]}; the cases that need them will be skipped"
    fi
  else
    echo "bench: ${missing[*]} not installed, and installing needs root and apt-get; those cases will be skipped"
  fi
fi

# 10,000 idle clients need more than 10,000 descriptors in the harness and in the proxy (which inherits the limit).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10500 ]; then
  echo "bench: ulimit -n is $(ulimit -n); the 10,000 idle clients scenario will fail to open them all"
fi

./mvnw -q -B -Dbuild.dir.name="$BUILD_DIR" -pl bench -am -DskipTests package
# The image's class-data-sharing archive, written for this jar as the image's build writes it for its own: the proxy
# runs as the image runs it (bench/README.md, "Memory").
sh proxy-runtime/cds-archive.sh "proxy-runtime/$BUILD_DIR/proxy-runtime.jar" "proxy-runtime/$BUILD_DIR/proxy-runtime.jsa"
CP="bench/$BUILD_DIR/classes:$(cat "bench/$BUILD_DIR/classpath.txt")"
exec java -Xms512m -Xmx2g -cp "$CP" dev.mysqlpool.bench.BenchMain \
  --proxy-jar "proxy-runtime/$BUILD_DIR/proxy-runtime.jar" \
  --work "bench/$BUILD_DIR/bench-work" \
  --results bench/results \
  "$@"
