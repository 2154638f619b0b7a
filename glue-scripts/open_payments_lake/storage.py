"""Small file operations through Spark's Hadoop file system, so one code path serves s3:// (Glue, S3A)
and local paths (tests)."""

from __future__ import annotations

import json
import re
from typing import Any

from pyspark.sql import SparkSession


def _path_and_fs(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def join(base: str, *names: str) -> str:
    return "/".join([base.rstrip("/"), *(n.strip("/") for n in names)])


def glob(spark: SparkSession, pattern: str) -> list[str]:
    """Files matching a Hadoop glob, sorted; [] when nothing matches."""
    path, fs = _path_and_fs(spark, pattern)
    statuses = fs.globStatus(path)
    if statuses is None:
        return []
    return sorted(s.getPath().toString() for s in statuses if s.isFile())


def glob_under(spark: SparkSession, root: str, patterns: list[str]) -> dict[str, list[str]]:
    """Files under root matching each Hadoop-style glob relative to it (`*` within one path segment), sorted;
    [] for a pattern when nothing matches or root does not exist.

    One recursive listing serves every pattern: on S3A that is a few paged LIST requests for the whole tree,
    where a glob lists each directory its wildcards pass through.
    """
    path, fs = _path_and_fs(spark, root)
    listed = []
    if fs.exists(path):
        found = fs.listFiles(path, True)
        while found.hasNext():
            listed.append(found.next().getPath().toString())
    base = re.escape(fs.makeQualified(path).toString().rstrip("/") + "/")
    matched = {}
    for pattern in patterns:
        regex = re.compile(base + "[^/]*".join(re.escape(p) for p in pattern.strip("/").split("*")))
        matched[pattern] = sorted(uri for uri in listed if regex.fullmatch(uri))
    return matched


def read_first_line(spark: SparkSession, uri: str) -> str:
    path, fs = _path_and_fs(spark, uri)
    jvm = spark.sparkContext._jvm
    reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(fs.open(path), "UTF-8"))
    try:
        return reader.readLine() or ""
    finally:
        reader.close()


def read_text(spark: SparkSession, uri: str) -> str:
    path, fs = _path_and_fs(spark, uri)
    jvm = spark.sparkContext._jvm
    stream = fs.open(path)
    try:
        return jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def write_text(spark: SparkSession, uri: str, text: str) -> None:
    path, fs = _path_and_fs(spark, uri)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def write_json(spark: SparkSession, uri: str, document: Any) -> None:
    write_text(spark, uri, json.dumps(document, indent=2, sort_keys=True) + "\n")


def delete(spark: SparkSession, uri: str) -> None:
    """Delete a file or directory tree if it exists."""
    path, fs = _path_and_fs(spark, uri)
    if fs.exists(path):
        fs.delete(path, True)
