#!/usr/bin/env bash
# Re-vendor Chart.js (the reports' charts) into tracker/static/vendor/.
# The version comes from package.json, so the vendored copy and the pinned npm package never drift
# (tests/reports/test_charts_vendored.py checks them against each other). Only the UMD build is
# copied: one self-contained file, loaded as a classic script from our own origin, so it runs under
# the pages' Content Security Policy (no eval, no injected styles). Its sourceMappingURL comment is
# removed because the map is not shipped; its licence is copied beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(python3 -c 'import json; print(json.load(open("package.json"))["devDependencies"]["chart.js"])')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "chart.js@$version" >/dev/null && tar xzf "chart.js-$version.tgz")
dest=tracker/static/vendor
mkdir -p "$dest"
rm -f "$dest"/chart-*.umd.min.js
python3 - "$tmp/package" "$dest" "$version" <<'PY'
import re, shutil, sys, pathlib
src, dest, version = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
js = (src / "dist" / "chart.umd.min.js").read_text()
assert f"Chart.js v{version}" in js, "not the version asked for"
js = re.sub(r"\n?//# sourceMappingURL=\S+\s*$", "\n", js)
(dest / f"chart-{version}.umd.min.js").write_text(js)
shutil.copy(src / "LICENSE.md", dest / "chart.js-LICENSE.md")
(dest / "CHARTJS_VERSION").write_text(version + "\n")
PY
echo "vendored chart.js $version into $dest"
