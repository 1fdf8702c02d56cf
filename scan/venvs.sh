# Sourced by scan/run-static and scan/run-dynamic: each scanner in its own virtual environment (their
# pins clash with the app's and with each other's), made from scan/requirements-<tool>.txt and made
# again when that file changes. Outside the work tree, so a fresh clone (CI) on the same machine
# reuses them.
export PIP_DISABLE_PIP_VERSION_CHECK=1
venvs=${SCAN_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/tracker-scan}

tool_venv() {  # tool_venv TOOL: make (or reuse) $venvs/TOOL
  local tool=$1 dir="$venvs/$1" wanted
  wanted=$(sha256sum "scan/requirements-$tool.txt" | cut -d' ' -f1)
  if [ "$(cat "$dir/.requirements" 2>/dev/null)" != "$wanted" ]; then
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q -r "scan/requirements-$tool.txt" 2> >(grep -v "is ignored: it is neither" >&2)
    echo "$wanted" >"$dir/.requirements"
  fi
}
