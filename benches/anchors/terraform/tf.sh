#!/usr/bin/env bash
# terraform for the benchmark's reference stack, offline: the AWS provider comes from a
# provider mirror already on this machine (found by searching for hashicorp/aws), and the
# function's package is a tiny script zip made on first use.
# Usage: tf.sh init|apply|destroy [terraform arguments...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
provider=$(find / -maxdepth 6 -type d -path '*/hashicorp/aws' -not -path '/proc/*' \
  -not -path "$here/*" 2>/dev/null | grep -v '/\.terraform/' | head -1 || true)
if [ -z "$provider" ]; then
  echo "no local mirror of the hashicorp/aws provider found: terraform cannot run offline" >&2
  exit 2
fi
mirror=$(dirname "$(dirname "$(dirname "$provider")")")
cli_config=$(mktemp)
printf 'provider_installation {\n  filesystem_mirror {\n    path = "%s"\n  }\n}\n' "$mirror" >"$cli_config"
cd "$here"
if [ ! -f fn.zip ]; then
  python3 - <<'PY'
import zipfile
entry = zipfile.ZipInfo("bootstrap")
entry.external_attr = 0o755 << 16  # an executable regular file, as Lambda needs
with zipfile.ZipFile("fn.zip", "w") as z:
    z.writestr(entry, "#!/bin/sh\necho hi\n")
PY
fi
TF_CLI_CONFIG_FILE=$cli_config exec terraform "$@"
