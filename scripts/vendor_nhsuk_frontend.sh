#!/usr/bin/env bash
# Re-vendor the NHS.UK frontend build into tracker/static/.
# The version comes from package.json, so the vendored copy and the pinned npm package never drift
# (tests/test_static_assets.py checks them against each other).
#
# Two deliberate changes to the upstream build:
#  - the @font-face rules for "Frutiger W01" are removed: they load the font from assets.nhs.uk,
#    a third-party host, and the pages must make no third-party requests. The design system's own
#    fallback (Arial, then sans-serif) is used instead.
#  - sourceMappingURL comments are removed, because the maps are not shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(python3 -c 'import json; print(json.load(open("package.json"))["devDependencies"]["nhsuk-frontend"])')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "nhsuk-frontend@$version" >/dev/null && tar xzf "nhsuk-frontend-$version.tgz")
src="$tmp/package/dist/nhsuk"
# Served at /assets: the stylesheet hard-codes url(/assets/images/...), so images/ sits beside it.
dest=tracker/static
mkdir -p "$dest"
rm -rf "$dest"/nhsuk-frontend-*.min.* "$dest/images" "$dest/manifest.json"
python3 - "$src" "$dest" "$version" <<'PY'
import re, shutil, sys, pathlib
src, dest, version = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
css = (src / f"nhsuk-frontend-{version}.min.css").read_text()
css, n = re.subn(r"@font-face\{[^}]*\}", "", css)
assert n == 2, f"expected 2 @font-face rules, found {n}"
assert "https://" not in css, "the stylesheet still refers to a third-party host"
css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
(dest / f"nhsuk-frontend-{version}.min.css").write_text(css)
js = (src / f"nhsuk-frontend-{version}.min.js").read_text()
js = re.sub(r"\n?//# sourceMappingURL=\S+\s*$", "\n", js)
(dest / f"nhsuk-frontend-{version}.min.js").write_text(js)
shutil.copytree(src / "assets" / "images", dest / "images")
shutil.copy(src / "assets" / "manifest.json", dest / "manifest.json")
(dest / "NHSUK_FRONTEND_VERSION").write_text(version + "\n")
PY
echo "vendored nhsuk-frontend $version into $dest"
