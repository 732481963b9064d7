#!/bin/sh
# Rebuilds the Go binaries of other build modes (Debian 12's golang-go 1.19.8, offline):
# a module-less (GOPATH-mode) windows/amd64 PE, and a GOEXPERIMENT=boringcrypto linux/amd64 ELF
# whose version is set with -ldflags -X '<module>/pkg/version.Ver=v0.50.1'.
# (no -trimpath there: it leaves -ldflags out of the build info).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/.." && pwd)
work=$(mktemp -d)
cp -r "$here/tool" "$here/nomod" "$work/"
(cd "$work/tool" && GOEXPERIMENT=boringcrypto CGO_ENABLED=1 GOPROXY=off go build \
  -ldflags="-s -w -X 'github.com/acme/tool/pkg/version.Ver=v0.50.1'" -o "$work/tool.elf" .)
(cd "$work/nomod" && GO111MODULE=off GOOS=windows GOARCH=amd64 go build -trimpath -ldflags='-s -w' \
  -o "$work/nomod.exe" main.go)
xz -9e -c "$work/tool.elf" >"$out/tool-boringcrypto-linux-amd64.xz"
xz -9e -c "$work/nomod.exe" >"$out/nomod-windows-amd64.exe.xz"
rm -rf "$work"
