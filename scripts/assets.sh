#!/usr/bin/env bash
# Front-end assets: installed from the npm registry by package-lock.json, then copied into
# pingantong/static/vendor/ where Django serves them. Nothing is fetched at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=pingantong/static/vendor
stamp="$dest/.installed-from"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "assets: npm is needed once to install the front-end assets (apt-get install npm)" >&2
  exit 1
fi
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
rm -rf "$dest"
mkdir -p "$dest/leaflet/images" "$dest/bootstrap"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/"
cp node_modules/htmx-ext-ws/dist/ws.min.js "$dest/htmx-ext-ws.min.js" 2>/dev/null \
  || cp node_modules/htmx-ext-ws/ws.js "$dest/htmx-ext-ws.min.js"
cp node_modules/alpinejs/dist/cdn.min.js "$dest/alpine.min.js"
cp node_modules/echarts/dist/echarts.min.js "$dest/"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$dest/leaflet/"
cp node_modules/leaflet/dist/images/* "$dest/leaflet/images/"
cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$dest/bootstrap/"
mkdir -p "$dest/swagger-ui"
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui-standalone-preset.js \
  node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/favicon-32x32.png "$dest/swagger-ui/"
echo "$want" > "$stamp"
echo "assets: installed into $dest"
