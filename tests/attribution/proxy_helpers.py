"""Running the rendered proxy recipes: the nginx one in a real nginx (its `location /_tr/` block in a
throwaway config), the Next.js and Cloudflare ones in node."""

import json
import os
import re
import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path

from attribution.selectors.pixel_proxy import PROXY_PATH, RECIPES, pixel_proxy_values
from attribution.templatetags.pixel_proxy import proxy_recipe_render


def recipe_code(workspace, key: str) -> str:
    recipe = next(r for r in RECIPES if r.key == key)
    return proxy_recipe_render(recipe, pixel_proxy_values(workspace=workspace)).code


def nginx_location(code: str) -> str:
    """The recipe's `location /_tr/ { … }` block, as a customer pastes it into their server block."""
    found = re.search(rf"^location {PROXY_PATH}/ \{{\n.*?^\}}$", code, re.S | re.M)
    assert found, code
    return found.group(0)


def nginx_config(prefix: Path, port: int, location: str, root: Path) -> Path:
    # In the foreground; as root, its worker stays root (`nobody` could not read pytest's tmp dir).
    (prefix / "tmp").mkdir(exist_ok=True)
    temp = " ".join(f"{kind}_temp_path {prefix}/tmp;" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    config = prefix / "nginx.conf"
    config.write_text(
        f"daemon off;\n{'user root;' if os.geteuid() == 0 else ''}\nerror_log stderr;\npid {prefix}/nginx.pid;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n  access_log off;\n  {temp}\n  types {{ text/html html; }}\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n    root {root};\n{location}\n  }}\n}}\n"
    )
    return config


def nginx_check(nginx: str, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [nginx, "-t", "-p", str(config.parent), "-c", str(config), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
    )


@contextmanager
def nginx_serving(nginx: str, prefix: Path, location: str, root: Path):
    """nginx in the foreground on a free port, yielding the port. It takes over a socket already
    listening (nginx's `NGINX` inherited-sockets variable), so a request made at once waits in the
    backlog instead of racing nginx's start-up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    config = nginx_config(prefix, port, location, root)
    process = subprocess.Popen(
        [nginx, "-p", str(prefix), "-c", str(config), "-e", "stderr"],
        pass_fds=[listener.fileno()],
        env={**os.environ, "NGINX": f"{listener.fileno()};"},
        stderr=subprocess.PIPE,
        text=True,
    )
    listener.close()
    try:
        yield port
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
        assert "[emerg]" not in errors, errors


def node_run(node: str, workdir: Path, script: str, *args: str) -> dict:
    """Run an ES module in node inside `workdir`; it prints one JSON object."""
    (workdir / "run.mjs").write_text(script)
    done = subprocess.run(
        [node, "run.mjs", *args], cwd=workdir, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
