"""instance/dev.env for `make run` / `make serve`: random secrets for this machine, never committed.

The file holds secrets and local defaults only; it never chooses a mode. DEMO_MODE=1 (the SMS
outbox, /api/v1/dev/*, the stub face verifier) is given by `make run` on its own command lines, so
`make serve`, which loads the same file, starts in production mode and refuses the demo parts.

`python -m server.devsetup --export FILE` prints the file as shell `export` lines for the
variables the environment does not already set: the environment always wins over the file.

DOMAIN.md: none: local setup.
"""

from __future__ import annotations

import os
import secrets
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def dev_env_lines(directory: Path) -> list[str]:
    """The lines of a new dev.env whose key file and database live in `directory`."""
    key_file = directory / "signing-keys.pem"
    return [
        "# Made by `make run` for this machine only. Never commit it.",
        "# The environment wins over every line here (server/devsetup.py).",
        f"JWT_SECRET_KEY={secrets.token_urlsafe(32)}",
        f"PASSWORD_PEPPER={secrets.token_urlsafe(32)}",
        "ADMIN_USERNAME=admin",
        f"ADMIN_PASSWORD={secrets.token_urlsafe(12)}",
        f"SIGNING_KEY_FILE={key_file.resolve()}",
        f"DATABASE_URL=sqlite+pysqlite:///{(directory / 'ecredential.db').resolve()}",
    ]


def main(path: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    key_file = target.parent / "signing-keys.pem"
    if not key_file.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        key_file.write_bytes(pem)
        key_file.chmod(0o600)
    target.write_text("\n".join(dev_env_lines(target.parent)) + "\n")
    target.chmod(0o600)
    print(f"wrote {target} (secrets for the dev server) and {key_file}")


def read_env_file(text: str) -> dict[str, str]:
    """KEY=value lines (comments and blank lines skipped; no shell syntax is interpreted)."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        if key.isidentifier():
            values[key] = value.strip()
    return values


def exports(text: str, environ: Mapping[str, str]) -> str:
    """Shell `export` lines for the file's variables that `environ` does not set."""
    return "".join(
        f"export {key}={shlex.quote(value)}\n"
        for key, value in read_env_file(text).items()
        if key not in environ
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--export":
        sys.stdout.write(exports(Path(sys.argv[2]).read_text(), os.environ))
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "instance/dev.env")
