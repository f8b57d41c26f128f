# Sourced by scripts/dev and scripts/test. Python tools (moto_server, cargo-zigbuild, zig) go
# into a virtual environment of the project's own, .venv: a system Python on Debian/Ubuntu
# refuses `pip install` outside one (PEP 668, externally-managed-environment). A tool already
# on PATH is used as it is. .venv/bin is put first on PATH for what the script runs next.
venv="$PWD/.venv"
export PATH="$venv/bin:$PATH"

# venv_install WHAT PIP-SPEC: pip-installs PIP-SPEC into .venv, creating .venv first.
venv_install() {
  local what=$1 spec=$2
  if [ ! -x "$venv/bin/pip" ]; then
    echo "==> creating .venv for catup's Python tools: python3 -m venv .venv"
    if ! python3 -m venv "$venv"; then
      echo "error: python3 -m venv failed: install Python's venv module (Debian/Ubuntu: sudo apt install python3-venv) and run this again" >&2
      exit 1
    fi
  fi
  echo "==> installing $what into .venv: pip install '$spec' (about a minute)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$spec"
}

# ensure_python_tool COMMAND PIP-SPEC: installs PIP-SPEC into .venv unless COMMAND is on PATH.
ensure_python_tool() {
  command -v "$1" >/dev/null 2>&1 || venv_install "$1" "$2"
}

# ensure_zig: cargo-zigbuild needs zig itself, as `zig` on PATH or Python's ziglang package
# (which `pip install cargo-zigbuild` brings, and a `cargo install cargo-zigbuild` does not).
ensure_zig() {
  command -v zig >/dev/null 2>&1 && return 0
  python3 -m ziglang version >/dev/null 2>&1 && return 0
  venv_install zig ziglang
}
