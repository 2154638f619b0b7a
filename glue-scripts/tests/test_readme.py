"""glue-scripts/README.md "Running locally": its commands, as written. The sample-data command runs; the job
commands go through the jobs' own argument parsers (a missing or bad argument fails as on the command line),
read what the previous command wrote, and the data they get passes the clean job's threshold (counted by
tests/oracle.py, without Spark: two jobs on that data would take a minute of the suite)."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

from oracle import expect_file

import sample_data
from open_payments_lake import clean_pipeline, curate_pipeline
from open_payments_lake.arguments import resolve
from open_payments_lake.raw_objects import parse_raw_uri
from open_payments_lake.spec import load_spec

GLUE_SCRIPTS = Path(__file__).resolve().parents[1]
REPO = GLUE_SCRIPTS.parent
PARSERS = {
    "clean_job.py": (clean_pipeline.ARGUMENTS, clean_pipeline.CleanOptions),
    "curate_job.py": (curate_pipeline.ARGUMENTS, curate_pipeline.CurateOptions),
}


def readme_commands() -> list[list[str]]:
    """The shell commands of the section's code block: continuations joined, comments dropped."""
    text = (GLUE_SCRIPTS / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Running locally") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README.md: no ```sh block under ## Running locally"
    lines = block.group(1).replace("\\\n", " ").splitlines()
    return [shlex.split(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def run_as_written(commands: list[list[str]]) -> dict[str, object]:
    """Runs sample_data.py, parses each job's arguments as its entry script does; {script: result}."""
    cwd, results = REPO, {}
    for command in commands:
        if command[0] == "cd":
            cwd = Path(os.path.normpath(cwd / command[1]))
            continue
        program, script, *args = command
        assert Path(os.path.normpath(cwd / program)) == REPO / ".venv/bin/python", command
        path = Path(os.path.normpath(cwd / script))
        assert path.is_file(), f"{script} does not exist in {cwd}"
        if path.name == "sample_data.py":
            results[path.name] = sample_data.main(args)
        else:
            names, options = PARSERS[path.name]
            results[path.name] = options.from_arguments(resolve(names, [script, *args]), load_spec())
    return results


def test_the_running_locally_commands_run_as_written(tmp_path):
    commands = [[arg.replace("/tmp/lake", str(tmp_path)) for arg in c] for c in readme_commands()]
    results = run_as_written(commands)
    assert list(results) == ["sample_data.py", "clean_job.py", "curate_job.py"]
    assert results["sample_data.py"] == 0
    clean, curate = results["clean_job.py"], results["curate_job.py"]
    assert clean.raw_path == f"{tmp_path}/raw/" and curate.cleaned_path == clean.cleaned_path

    # Every part the manifests list stays within the clean job's quarantine threshold, as written.
    spec, ratios = load_spec(), {}
    for manifest in tmp_path.glob("raw/**/manifest.json"):
        folder = manifest.parent
        for entry in json.loads(manifest.read_text())["parts"]:
            part = parse_raw_uri(f"{folder.relative_to(tmp_path).as_posix()}/{entry['key']}")
            f = expect_file(spec, folder / entry["key"], part.dataset, part.program_year, part.publication)
            ratios[part.key] = f.quarantined / f.records
    datasets = {(parse_raw_uri(key).dataset, parse_raw_uri(key).program_year) for key in ratios}
    assert datasets == {
        (d, y) for d in ("general", "research", "ownership", "removed_deleted") for y in (2022, 2023)
    }
    assert {k: r for k, r in ratios.items() if r > clean.max_quarantine_ratio} == {}
