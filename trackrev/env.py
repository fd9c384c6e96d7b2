"""The one `environ.Env` instance and BASE_DIR; `.env` is read if present (`make run` writes one).

TRACKREV_ENV_FILE names another file to read instead, or none when empty (the test settings read none,
so a developer's `.env` never changes what the tests see). Variables of the real environment win.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if env_file := os.environ.get("TRACKREV_ENV_FILE", str(BASE_DIR / ".env")):
    environ.Env.read_env(env_file, overwrite=False)
