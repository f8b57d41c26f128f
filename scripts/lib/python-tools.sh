# Sourced by scripts/dev and scripts/test. Python tools (moto_server, cargo-zigbuild) go into a
# virtual environment of the project's own, .venv: a system Python on Debian/Ubuntu refuses
# `pip install` outside one (PEP 668, externally-managed-environment). A tool already on
# PATH is used as it is. .venv/bin is put first on PATH for what the script runs next.
venv="$PWD/.venv"
export PATH="$venv/bin:$PATH"

# ensure_python_tool COMMAND PIP-SPEC: installs PIP-SPEC into .venv unless COMMAND is on PATH.
ensure_python_tool() {
  local command=$1 spec=$2
  command -v "$command" >/dev/null 2>&1 && return 0
  if [ ! -x "$venv/bin/pip" ]; then
    echo "==> creating .venv for catup's Python tools: python3 -m venv .venv"
    if ! python3 -m venv "$venv"; then
      echo "error: python3 -m venv failed: install Python's venv module (Debian/Ubuntu: sudo apt install python3-venv) and run this again" >&2
      exit 1
    fi
  fi
  echo "==> installing $command into .venv: pip install '$spec' (about a minute)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$spec"
}
