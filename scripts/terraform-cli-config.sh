#!/usr/bin/env bash
# Writes .build/terraform.tfrc, the CLI configuration every project script and test points
# TF_CLI_CONFIG_FILE at.
#
# TF_PLUGIN_MIRROR (a directory in terraform's unpacked filesystem-mirror layout) makes terraform
# install hashicorp providers from it, offline. Unset, the script looks for such a mirror on this
# machine once; when there is none, terraform uses the public registry as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build
out=.build/terraform.tfrc

mirror=${TF_PLUGIN_MIRROR:-}
if [ -z "$mirror" ] && [ "${TF_PLUGIN_MIRROR_DISCOVER:-1}" = 1 ]; then
  if [ -f .build/terraform-mirror.path ] && [ -d "$(cat .build/terraform-mirror.path)" ]; then
    mirror=$(cat .build/terraform-mirror.path)
  else
    found=$(find / -xdev \( -path /proc -o -path /sys -o -path '*/node_modules' -o -path '*/.git' \) -prune \
      -o -type f -name 'terraform-provider-aws_*' -path '*/registry.terraform.io/hashicorp/aws/*' -print 2>/dev/null \
      | head -1 || true)
    if [ -n "$found" ]; then
      # <mirror>/registry.terraform.io/hashicorp/aws/<version>/<os_arch>/<binary>
      mirror=$(dirname "$(dirname "$(dirname "$(dirname "$(dirname "$(dirname "$found")")")")")")
      echo "$mirror" > .build/terraform-mirror.path
    fi
  fi
fi

if [ -n "$mirror" ]; then
  [ -d "$mirror/registry.terraform.io/hashicorp" ] || {
    echo "error: TF_PLUGIN_MIRROR=$mirror has no registry.terraform.io/hashicorp/ inside" >&2; exit 1; }
  cat > "$out" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
TFRC
  echo "terraform installs hashicorp providers from the mirror $mirror ($out)"
else
  : > "$out"
  echo "no provider mirror (set TF_PLUGIN_MIRROR to use one): terraform uses the public registry ($out)"
fi
