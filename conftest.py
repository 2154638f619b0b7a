"""Session fixtures shared across the Python test folders: the curated lake (tools/local-athena/tests/
curated_lake.py) is built once per run for the SQL tests and the warehouse tests alike."""

pytest_plugins = ["curated_lake"]
