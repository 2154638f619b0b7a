#!/usr/bin/env bash
# Run first by `make test`: the test data that lives outside the project must be where the tests read it, or the
# run stops here saying what is missing and where it is expected (not with a file-not-found deep inside a test).
set -euo pipefail
cd "$(dirname "$0")/.."

# The tests read the same place (__tests__/helpers/shared-data.ts, glue-scripts/tests/shared_data.py).
shared="${LAKE_SHARED_DIR:-../shared}"
data="$shared/open-payments"
missing=()
for file in \
  layouts/{general.legacy-75,general.modern-91,research.legacy-176,research.modern-252}.header \
  layouts/{ownership.legacy-29,ownership.modern-30,removed-deleted-4}.header \
  samples/OP_DTL_GNRL_PGYR2016_P06302017.sample.csv \
  real/OP_DTL_OWNRSHP_PGYR{2017,2018,2019,2020,2021,2022}_P01302025_01212025.csv; do
  [ -s "$data/$file" ] || missing+=("$file")
done

if ((${#missing[@]} > 0)); then
  {
    echo "error: the test data is missing from $(realpath -m "$data")/ (${#missing[@]} files):"
    printf '  %s\n' "${missing[@]}"
    echo "The tests read CMS's exact header lines (layouts/), a CMS legacy sample row (samples/) and six real"
    echo "CMS Ownership files (real/, 8.5 MB) from ../shared/open-payments next to the checkout; they are not"
    echo "copied into the project. Put that folder there, or point LAKE_SHARED_DIR at the directory holding"
    echo "open-payments/, e.g.: LAKE_SHARED_DIR=/data/shared make test"
  } >&2
  exit 1
fi
echo "test data: $(realpath "$data")/ (layouts, samples, real)"
