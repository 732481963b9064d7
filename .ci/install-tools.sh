#!/usr/bin/env bash
# Debian tools the tests and the demo use: image building (debootstrap, umoci, skopeo),
# Debian's OCI registry, htpasswd for its Basic mode, rpm/db tools and Go for fixtures,
# ClamAV's daemon for the malware tests.
# Installs only what is missing; needs root (as CI and the dev machines have).
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have debootstrap     || need+=(debootstrap)
have umoci           || need+=(umoci)
have skopeo          || need+=(skopeo)
have docker-registry || need+=(docker-registry)
have htpasswd        || need+=(apache2-utils)
have go              || need+=(golang-go)
[ -d /usr/share/gocode/src/golang.org/x/text ] || need+=(golang-golang-x-text-dev)
have rpm             || need+=(rpm)
have db5.3_load      || need+=(db5.3-util)
have dpkg            || need+=(dpkg)
[ -x /usr/sbin/clamd ] || need+=(clamav-daemon)  # the malware tests start a real clamd
have containerd      || need+=(containerd)  # tests/node: the node daemon on a real containerd (ctr, runc)
have chromium        || need+=(chromium chromium-driver)  # tests/console: Playwright drives /usr/bin/chromium
if [ ${#need[@]} -gt 0 ]; then
  echo "install-tools: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
