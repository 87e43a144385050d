#!/usr/bin/env bash
# Refresh the vendored front-end assets of the web app (`make vendor`) from the npm registry.
#
# Needs only bash, curl, tar, python3 and coreutils (no Node). For each package it reads the
# registry metadata, downloads the pinned version's tarball, checks it against the registry's
# sha512 `dist.integrity`, extracts the one file we serve and checks the version marker inside it.
# Files are staged in a temp dir and moved into place one by one (rename, so no reader sees a
# half-written file), SHA256SUMS last. Running it again with the same pins changes nothing.
# `make vendor-check` verifies the committed files against SHA256SUMS without the network.
#
# To upgrade: change a pin below, run `make vendor`, review the diff, commit.
set -euo pipefail

HTMX_VERSION=2.0.11 # npm htmx.org, kept on the 2.0.x line
PICO_VERSION=2.1.1  # npm @picocss/pico, kept on 2.x

REGISTRY=https://registry.npmjs.org
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST_REL=disclosure/web/static/vendor
DEST=$ROOT/$DEST_REL

for tool in curl tar python3 sha256sum; do
  command -v "$tool" >/dev/null || { echo "vendor.sh: $tool is required" >&2; exit 1; }
done

mkdir -p "$DEST"
# Scratch space beside DEST (same filesystem, so the final mv is an atomic rename).
WORK=$(mktemp -d "$DEST/../.vendor-tmp.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/stage"

curl_get() { # url -> stdout
  curl --fail --silent --show-error --location --proto '=https' --retry 3 "$@"
}

PROVENANCE=()

# fetch PACKAGE VERSION MEMBER OUTNAME MARKER
#   MEMBER: path inside the tarball (below package/); MARKER: fixed string the file must contain.
fetch() {
  local pkg=$1 version=$2 member=$3 outname=$4 marker=$5
  local enc=${pkg/\//%2F} meta="$WORK/$outname.meta.json" tgz="$WORK/$outname.tgz"

  # The abbreviated ("corgi") document: dist-tags and versions[v].dist, without readmes.
  curl_get -H 'Accept: application/vnd.npm.install-v1+json' -o "$meta" "$REGISTRY/$enc"
  local info tarball integrity newest
  info=$(
    python3 - "$meta" "$version" <<'PY'
import json, re, sys

path, version = sys.argv[1], sys.argv[2]
doc = json.load(open(path, encoding="utf-8"))
entry = doc["versions"].get(version)
if entry is None:
    sys.exit(f"vendor.sh: {doc['name']} {version} is not in the registry")
dist = entry["dist"]
integrity = dist.get("integrity", "")
if not integrity.startswith("sha512-"):
    sys.exit(f"vendor.sh: {doc['name']} {version} has no sha512 integrity")
# Newest stable release on the same line as the pin: 2.0.x for htmx (x.y.*), 2.x for pico (x.*).
major, minor, _ = version.split(".")
line = rf"{major}\.{minor}\.\d+" if doc["name"] == "htmx.org" else rf"{major}\.\d+\.\d+"
same_line = [v for v in doc["versions"] if re.fullmatch(line, v)]
newest = max(same_line, key=lambda v: tuple(map(int, v.split("."))))
print(dist["tarball"], integrity, newest, sep="\n")
PY
  )
  { read -r tarball; read -r integrity; read -r newest; } <<<"$info"
  case $tarball in
    "$REGISTRY"/*) ;;
    *) echo "vendor.sh: unexpected tarball URL $tarball" >&2; exit 1 ;;
  esac

  curl_get -o "$tgz" "$tarball"
  python3 - "$tgz" "$integrity" <<'PY'
import base64, hashlib, sys

path, integrity = sys.argv[1], sys.argv[2]
expected = base64.b64decode(integrity.removeprefix("sha512-"))
with open(path, "rb") as f:
    actual = hashlib.file_digest(f, "sha512").digest() if hasattr(hashlib, "file_digest") \
        else hashlib.sha512(f.read()).digest()
if actual != expected:
    sys.exit(f"vendor.sh: integrity mismatch for {path}: expected {integrity}, "
             f"got sha512-{base64.b64encode(actual).decode()}")
PY

  mkdir "$WORK/$outname.x"
  tar -xzf "$tgz" -C "$WORK/$outname.x" "package/$member"
  local file="$WORK/$outname.x/package/$member"
  [ -s "$file" ] || { echo "vendor.sh: $pkg $version: package/$member is empty" >&2; exit 1; }
  grep -qF -- "$marker" "$file" ||
    { echo "vendor.sh: $pkg $version: package/$member lacks '$marker'" >&2; exit 1; }
  cp "$file" "$WORK/stage/$outname"

  echo "$pkg $version: $tarball ($integrity verified), package/$member -> $DEST_REL/$outname"
  if [ "$newest" != "$version" ]; then
    echo "  note: $pkg $newest is the newest release on this line; the pin is $version"
  fi
  PROVENANCE+=("# $pkg $version from $tarball ($integrity), file package/$member")
}

fetch htmx.org "$HTMX_VERSION" dist/htmx.min.js htmx.min.js "version:\"$HTMX_VERSION\""
fetch @picocss/pico "$PICO_VERSION" css/pico.min.css pico.min.css "v$PICO_VERSION (https://picocss.com)"

# sha256sum -c skips lines starting with '#', so the provenance lives in the checksum file.
{
  echo "# Vendored web assets, written by scripts/vendor.sh (make vendor); verify: make vendor-check"
  printf '%s\n' "${PROVENANCE[@]}"
  (cd "$WORK/stage" && sha256sum htmx.min.js pico.min.css)
} >"$WORK/stage/SHA256SUMS"

for name in htmx.min.js pico.min.css SHA256SUMS; do
  if cmp -s "$WORK/stage/$name" "$DEST/$name"; then
    echo "unchanged $DEST_REL/$name"
  else
    chmod 644 "$WORK/stage/$name"
    mv -f "$WORK/stage/$name" "$DEST/$name"
    echo "wrote     $DEST_REL/$name ($(wc -c <"$DEST/$name") bytes)"
  fi
done

(cd "$DEST" && sha256sum -c --quiet --strict SHA256SUMS)
echo "checked   $DEST_REL/SHA256SUMS"
