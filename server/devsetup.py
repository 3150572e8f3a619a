"""Write instance/dev.env for `make run`: random secrets for this machine, never committed.

DOMAIN.md: none: local setup.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


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
    lines = [
        "# Made by `make run` for this machine only. Never commit it.",
        f"JWT_SECRET_KEY={secrets.token_urlsafe(32)}",
        f"PASSWORD_PEPPER={secrets.token_urlsafe(32)}",
        "ADMIN_USERNAME=admin",
        f"ADMIN_PASSWORD={secrets.token_urlsafe(12)}",
        "SMS_BACKEND=outbox",
        f"SIGNING_KEY_FILE={key_file.resolve()}",
        f"DATABASE_URL=sqlite+pysqlite:///{(target.parent / 'ecredential.db').resolve()}",
    ]
    target.write_text("\n".join(lines) + "\n")
    target.chmod(0o600)
    print(f"wrote {target} (secrets for the dev server) and {key_file}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "instance/dev.env")
