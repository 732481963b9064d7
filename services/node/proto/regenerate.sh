#!/usr/bin/env bash
# Regenerate the Python protobuf/gRPC modules from the hand-written .proto subsets.
# Needs grpcio-tools (`pip install grpcio-tools`; not a runtime dependency).
# The generated modules import each other as the package services.node.proto.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
cd "$root"
"$python" -m grpc_tools.protoc -I. --python_out=. --pyi_out=. --grpc_python_out=. \
  services/node/proto/cri.proto \
  services/node/proto/containerd_images.proto \
  services/node/proto/containerd_content.proto
