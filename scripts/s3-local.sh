#!/usr/bin/env bash
# A private S3-compatible server (moto_server, installed by scripts/install-deps.sh) on a free
# loopback port, with one bucket, for benchmarks and the C examples over S3.
#   scripts/s3-local.sh start DIR [BUCKET]   starts it; writes DIR/endpoint, DIR/pid, DIR/env
#                                            (AWS_* variables to source) and DIR/s3.json (an
#                                            S3-only FMI config)
#   scripts/s3-local.sh stop DIR             stops it
# moto checks no credentials; the test credentials only satisfy the AWS credential chain.
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop DIR [BUCKET]" >&2; exit 2; }
PY="${FMI_MOTO_PYTHON:-${FMI_MOTO_VENV:-${HOME}/.cache/fmi/moto-5.2.5}/bin/python3}"
# moto_server behind a lock that makes its conditional writes atomic, as on AWS S3.
LAUNCHER="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/s3_harness/moto_atomic.py"

case "$cmd" in
start)
    bucket="${3:-fmi}"
    mkdir -p "$dir"
    [[ -x "$PY" ]] || { echo "s3-local: $PY not found: run scripts/install-deps.sh" >&2; exit 1; }
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    "$PY" "$LAUNCHER" -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 1 200); do
        if curl -s -o /dev/null "http://127.0.0.1:$port/"; then break; fi
        kill -0 "$(cat "$dir/pid")" 2>/dev/null || { cat "$dir/moto.log" >&2; exit 1; }
        sleep 0.1
    done
    curl -sf -X PUT "http://127.0.0.1:$port/$bucket" >/dev/null ||
        { echo "s3-local: cannot create bucket $bucket" >&2; exit 1; }
    echo "http://127.0.0.1:$port" >"$dir/endpoint"
    cat >"$dir/env" <<ENV
export AWS_ACCESS_KEY_ID=fmi-test AWS_SECRET_ACCESS_KEY=fmi-test-secret AWS_EC2_METADATA_DISABLED=true
ENV
    cat >"$dir/s3.json" <<JSON
{
  "backends": {
    "S3": {"enabled": true, "bucket_name": "$bucket", "s3_region": "us-east-1",
           "endpoint_url": "http://127.0.0.1:$port", "path_style": true,
           "timeout": 20, "max_timeout": 2000},
    "Direct": {"enabled": false}
  }
}
JSON
    echo "s3-local: moto_server at http://127.0.0.1:$port, bucket $bucket (pid $(cat "$dir/pid"))"
    ;;
stop)
    if [[ -f "$dir/pid" ]]; then
        kill "$(cat "$dir/pid")" 2>/dev/null || true
        rm -f "$dir/pid"
    fi
    ;;
*)
    echo "usage: $0 start|stop DIR [BUCKET]" >&2
    exit 2
    ;;
esac
