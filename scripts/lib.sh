# Shared shell helpers, sourced by scripts/*.sh.

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# require CMD MIN_VERSION HINT: fail with what is missing and where to get it.
require() {
  local cmd=$1 min=$2 hint=$3 have
  if ! command -v "$cmd" >/dev/null 2>&1; then
    echo "error: '$cmd' is not on PATH; install $hint" >&2
    exit 1
  fi
  case $cmd in
    node) have=$(node --version | tr -d v) ;;
    python3) have=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])') ;;
    java) have=$(java -version 2>&1 | awk -F'"' '/version/ {print $2}') ;;
    terraform) have=$(terraform version -json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])') ;;
  esac
  if [ "$(printf '%s\n%s\n' "$min" "$have" | sort -V | head -1)" != "$min" ]; then
    echo "error: $cmd $have is older than $min; install $hint" >&2
    exit 1
  fi
}

# make_venv DIR LOCKFILE: a virtual environment holding exactly the lock file's pins.
make_venv() {
  local dir=$1 lock=$2
  if [ -f "$dir/.installed" ] && cmp -s "$lock" "$dir/.installed"; then
    echo "up to date"
    return
  fi
  python3 -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check uv==0.9.7
  "$dir/bin/uv" pip sync --quiet --python "$dir/bin/python" "$lock"
  cp "$lock" "$dir/.installed"
}
