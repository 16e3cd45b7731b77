#!/usr/bin/env bash
# Vendor the leaders' page's JavaScript libraries from the npm registry into static/vendor/.
#
# The page needs no build step at run time: the built files this script copies are committed.
# Run it again only to change a library's version (edit package.json, then ./build.sh, which
# rewrites package-lock.json and static/vendor/). Needs node and npm.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp "$here/package.json" "$work/"
if [ -f "$here/package-lock.json" ]; then
  cp "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --ignore-scripts --no-audit --no-fund)
else
  (cd "$work" && npm install --ignore-scripts --no-audit --no-fund)
  cp "$work/package-lock.json" "$here/"
fi

modules=$work/node_modules
dest=$here/static/vendor
rm -rf "$dest"
mkdir -p "$dest"
# Load order in index.html: cytoscape, then layout-base -> cose-base -> cytoscape-fcose (UMD
# builds that find each other as the globals layoutBase, coseBase and cytoscapeFcose).
cp "$modules/cytoscape/dist/cytoscape.min.js" "$dest/cytoscape.min.js"
cp "$modules/layout-base/layout-base.js" "$dest/layout-base.js"
cp "$modules/cose-base/cose-base.js" "$dest/cose-base.js"
cp "$modules/cytoscape-fcose/cytoscape-fcose.js" "$dest/cytoscape-fcose.js"
# The API docs (/docs, /redoc; api/docs.py), served from here rather than a CDN.
mkdir -p "$dest/swagger-ui" "$dest/redoc"
for f in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png; do
  cp "$modules/swagger-ui-dist/$f" "$dest/swagger-ui/$f"
done
cp "$modules/redoc/bundles/redoc.standalone.js" "$dest/redoc/redoc.standalone.js"

{
  echo "Third-party JavaScript vendored from the npm registry by ../../build.sh."
  for name in cytoscape layout-base cose-base cytoscape-fcose swagger-ui-dist redoc; do
    version=$(node -p "require('$modules/$name/package.json').version")
    licence=$(node -p "require('$modules/$name/package.json').license")
    echo
    echo "================================================================================"
    echo "$name $version ($licence)"
    echo "================================================================================"
    cat "$modules/$name/LICENSE"
  done
} > "$dest/LICENSES.txt"

echo "vendored into $dest:"
ls -l "$dest"
