"""Gives a development clone what it needs to run with nothing exported: bin/dev_env.py PATH (`make run`
runs it on `.env`, git-ignored, which django-environ reads: trackrev/env.py).

DEBUG on and keys of the clone's own: a Django secret key, a Fernet key for the encrypted fields, the key
of the email hash. Only what the file does not set yet is added; the rest of it is left as it is.
"""

import re
import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

HEADER = "# Local development, added by `make run` (bin/dev_env.py); never use these values in production.\n"


def local_values() -> dict[str, str]:
    return {
        "DJANGO_DEBUG": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "EMAIL_HASH_KEY": secrets.token_urlsafe(32),
    }


def main(path: Path) -> None:
    text = path.read_text() if path.exists() else ""
    # As django-environ reads the file: the last assignment of a name wins; an empty one sets no secret.
    assigned = dict(re.findall(r"^(?:export )?([A-Za-z_0-9]+)=(.*)$", text, flags=re.M))
    missing = {name: value for name, value in local_values().items() if not assigned.get(name)}
    if not missing:
        return
    if text and not text.endswith("\n"):
        text += "\n"
    path.touch(mode=0o600)  # a new file: keys readable by its owner only
    path.write_text(text + HEADER + "".join(f"{name}={value}\n" for name, value in missing.items()))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
