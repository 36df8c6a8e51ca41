#!/bin/sh
# Writes the proxy's class-data-sharing archive (AppCDS): starts the proxy once with a throw-away configuration (no
# reachable backend; ports the kernel picks), waits until it listens, stops it with SIGTERM, and the JVM writes every
# class it loaded to ARCHIVE as it exits. A proxy started with -XX:SharedArchiveFile=ARCHIVE maps those classes
# instead of loading, parsing and verifying them again: a third less CPU to start, and metaspace mostly replaced by
# the shared, file-backed archive (bench/README.md, "Memory"). An archive fits only the JVM build that wrote it and
# the jar at the same path, size and time; with another, the JVM warns and runs without it.
#
# Run by the Dockerfile at image build (the image's java, /app/proxy-runtime.jar) and by bench/run.sh (the jar the
# bench runs, by the same relative path).
#   usage: proxy-runtime/cds-archive.sh JAR ARCHIVE
set -eu
if [ "$#" -ne 2 ]; then
  echo "usage: $0 JAR ARCHIVE" >&2
  exit 2
fi
jar=$1
archive=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/proxy.yaml" <<'EOF'
listen: {host: 127.0.0.1, port: 0}
admin: {host: 127.0.0.1, port: 0}
backends:
  - {name: training, host: 127.0.0.1, port: 9, tls: {mode: disabled}}
users:
  - {name: training, password: training}
shutdown: {drainTimeout: 0s}
EOF
rm -f "$archive"
# The collector and compressed pointers must match the proxy's own flags (the archive records them); the image's
# JAVA_TOOL_OPTIONS would also name the archive as an input, so this run states its flags itself.
JAVA_TOOL_OPTIONS= java -XX:+UseSerialGC -Xmx128m -XX:ArchiveClassesAtExit="$archive" \
  -jar "$jar" --config "$work/proxy.yaml" >"$work/proxy.log" 2>&1 &
pid=$!
tries=0
until grep -q "listening on" "$work/proxy.log"; do
  tries=$((tries + 1))
  if [ "$tries" -gt 1200 ] || ! kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    cat "$work/proxy.log" >&2
    echo "cds-archive: the proxy did not start within 120 s; no archive written" >&2
    exit 1
  fi
  sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || true
if [ ! -s "$archive" ]; then
  cat "$work/proxy.log" >&2
  echo "cds-archive: the JVM wrote no archive to $archive" >&2
  exit 1
fi
echo "cds-archive: wrote $archive ($(wc -c <"$archive") bytes)"
