#!/usr/bin/env bash
# The browser map tests need Debian's chromium and a CJK font; install them
# with apt when either is missing (we are root on CI and developer machines).
# A no-op when both are present. Never downloads a browser from elsewhere.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -n "$(fc-list :lang=zh 2>/dev/null)" ] || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-browser: missing ${need[*]}; run as root: apt-get install ${need[*]}" >&2
    exit 1
fi
echo "ensure-browser: installing ${need[*]} with apt" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" fontconfig >/dev/null
