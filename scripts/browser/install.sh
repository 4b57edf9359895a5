#!/usr/bin/env bash
# Installs what browser tests need, idempotently:
#   - Debian's chromium (/usr/bin/chromium), through apt-get when missing;
#   - Node.js and npm, through apt-get when missing;
#   - playwright-core, pinned by scripts/browser/package-lock.json, into target/browser/
#     (`npm ci`: the exact locked version; its browser download is never used, the
#     tests drive /usr/bin/chromium).
# Prints the paths it settled on. Safe to run from any directory and many times.
set -euo pipefail
cd "$(dirname "$0")/../.."

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}
apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
# Fonts, so that screenshots show text rather than boxes.
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt_install "${missing[@]}"
fi

dir=target/browser
mkdir -p "$dir"
if ! cmp -s scripts/browser/package-lock.json "$dir/package-lock.json" \
    || [ ! -d "$dir/node_modules/playwright-core" ]; then
    cp scripts/browser/package.json scripts/browser/package-lock.json "$dir/"
    # No browser download: the tests drive Debian's chromium.
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi
echo "chromium: $("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null || echo missing)"
echo "playwright-core: $(node -p "require('./$dir/node_modules/playwright-core/package.json').version")"
