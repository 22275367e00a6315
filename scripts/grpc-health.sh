#!/bin/sh
# Exits 0 when the gRPC server at HOST:PORT answers grpc.health.v1.Health/Check with SERVING.
# The container health check of every service (compose, ECS). It speaks gRPC with curl over
# cleartext HTTP/2: one empty HealthCheckRequest (the server as a whole) in a 5-byte gRPC frame,
# and SERVING is the 7-byte answer 00 00000002 0801 (uncompressed, 2 bytes: field 1 = 1). About
# 10 ms and 11 MB per run, where a Node script costs a tenth of a second and 40 MB or more.
set -u
address=${1:-127.0.0.1:50051}
answer=$(printf '\000\000\000\000\000' |
  curl -sS --max-time 2 --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' \
    --data-binary @- "http://$address/grpc.health.v1.Health/Check" | od -An -tx1 | tr -d ' \n')
if [ "$answer" = "00000000020801" ]; then
  echo SERVING
  exit 0
fi
echo "not serving: ${answer:-no answer}" >&2
exit 1
