#!/usr/bin/env bash
# Fetches the JVM libraries pinned in jars.lock into .build/jars/ and verifies each sha256; a jar already
# there with the right hash is kept. A mismatch deletes the download and fails naming the coordinate.
set -euo pipefail
cd "$(dirname "$0")/.."
MAVEN_REPOSITORY=${MAVEN_REPOSITORY:-https://repo1.maven.org/maven2}
mkdir -p .build/jars
grep -v '^#' jars.lock | while read -r coordinate sha256; do
  [ -n "$coordinate" ] || continue
  IFS=: read -r group artifact version <<<"$coordinate"
  jar=".build/jars/$artifact-$version.jar"
  if [ -f "$jar" ] && echo "$sha256  $jar" | sha256sum --check --status; then
    echo "$coordinate: up to date"
    continue
  fi
  url="$MAVEN_REPOSITORY/${group//.//}/$artifact/$version/$artifact-$version.jar"
  echo "$coordinate: downloading $url"
  curl --fail --silent --show-error --location --retry 3 -o "$jar.part" "$url"
  if ! echo "$sha256  $jar.part" | sha256sum --check --status; then
    rm -f "$jar.part"
    echo "error: $coordinate: sha256 differs from jars.lock; refusing the download (check MAVEN_REPOSITORY)" >&2
    exit 1
  fi
  mv "$jar.part" "$jar"
done
