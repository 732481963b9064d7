#!/bin/sh
# Rebuilds the Go test binaries (Debian 12's golang-go 1.19.8 and golang-golang-x-text-dev, offline).
# The x/text source is Debian's, vendored under the version the go.mod requires, replaced by v0.3.8.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cp -r "$here/src/." "$work/"
mkdir -p "$work/vendor/golang.org/x" "$work/vendor/example.com"
cp -r /usr/share/gocode/src/golang.org/x/text "$work/vendor/golang.org/x/text"
cp -r "$work/greeting" "$work/vendor/example.com/greeting"
mv "$work/modules.txt" "$work/vendor/modules.txt"
for target in linux/amd64 windows/386 darwin/arm64; do
  os=${target%/*}; arch=${target#*/}; ext=; [ "$os" = windows ] && ext=.exe
  (cd "$work" && GOOS=$os GOARCH=$arch GOFLAGS=-mod=vendor GOPROXY=off CGO_ENABLED=0 \
    go build -trimpath -ldflags='-s -w' -o "$work/out/gofixture-$os-$arch$ext" .)
  xz -9e -c "$work/out/gofixture-$os-$arch$ext" >"$here/gofixture-$os-$arch$ext.xz"
done
rm -rf "$work"
