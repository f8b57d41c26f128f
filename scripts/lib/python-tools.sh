# Sourced by scripts/dev and scripts/test. Python tools (moto_server, cargo-zigbuild, zig) go
# into a virtual environment of the project's own, .venv: a system Python on Debian/Ubuntu
# refuses `pip install` outside one (PEP 668, externally-managed-environment). A tool already
# on PATH is used as it is, and linked into .venv/bin, so .venv/bin/TOOL (README.md's commands)
# exists on every set-up. .venv/bin is put first on PATH for what the script runs next.
. "$(dirname "${BASH_SOURCE[0]}")/heartbeat.sh"
venv="$PWD/.venv"
export PATH="$venv/bin:$PATH"

# venv_install WHAT PIP-SPEC: pip-installs PIP-SPEC into .venv, creating .venv first.
venv_install() {
  local what=$1 spec=$2
  if [ ! -x "$venv/bin/pip" ]; then
    echo "==> creating .venv for catup's Python tools: python3 -m venv .venv"
    if ! with_heartbeat "creating .venv" python3 -m venv "$venv"; then
      echo "error: python3 -m venv failed: install Python's venv module (Debian/Ubuntu: sudo apt install python3-venv) and run this again" >&2
      exit 1
    fi
  fi
  echo "==> installing $what into .venv: pip install '$spec' (about a minute)"
  with_heartbeat "installing $what into .venv" \
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$spec"
}

# ensure_python_tool COMMAND PIP-SPEC: installs PIP-SPEC into .venv unless COMMAND is on PATH;
# one found elsewhere on PATH is linked into .venv/bin.
ensure_python_tool() {
  local found
  found=$(command -v "$1" 2>/dev/null) || { venv_install "$1" "$2"; return; }
  [ "$found" = "$venv/bin/$1" ] && return 0
  echo "==> using $1 from PATH ($found), linked as .venv/bin/$1"
  mkdir -p "$venv/bin"
  ln -sf "$found" "$venv/bin/$1"
}

# ensure_zig: cargo-zigbuild needs zig itself, as `zig` on PATH or Python's ziglang package
# (which `pip install cargo-zigbuild` brings, and a `cargo install cargo-zigbuild` does not).
ensure_zig() {
  command -v zig >/dev/null 2>&1 && return 0
  python3 -m ziglang version >/dev/null 2>&1 && return 0
  venv_install zig ziglang
}
