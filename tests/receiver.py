"""A local HTTP endpoint standing in for a customer's webhook receiver, and names that resolve as an
attacker's DNS answers (fixtures, for every suite)."""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    """Answers each POST with the next of `statuses` (the last one from then on), `body` and `headers`;
    keeps what it received as (headers, body)."""

    def __init__(self, status=200, body=b"ok", headers=None, statuses=None):
        outer = self
        self.statuses = list(statuses or [status])
        self.requests: list[tuple[dict[str, str], bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                outer.requests.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
                answer = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                self.send_response(answer)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/trackrev"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def received(self) -> list[bytes]:
        return [body for _, body in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    """`receiver(**kwargs)` starts one; all are stopped after the test."""
    made = []

    def start(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield start
    for each in made:
        each.close()


@pytest.fixture
def resolving(monkeypatch):
    """`resolving(name, *addresses)`: the name resolves to each address in turn (the last one from then on),
    as a name under an attacker's control can; other names resolve as usual."""
    real = socket.getaddrinfo

    def install(name, *addresses):
        answers = list(addresses)

        def getaddrinfo(host, port, *args, **kwargs):
            if host != name:
                return real(host, port, *args, **kwargs)
            address = answers.pop(0) if len(answers) > 1 else answers[0]
            return real(address, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    return install


@pytest.fixture
def local_outbound(settings):
    """Receivers here listen on 127.0.0.1 over http: allowed as an operator allows a network of their own
    (OUTBOUND_ALLOWED_NETWORKS), http as in DEBUG; every other check of trackrev.common.outbound still runs."""
    settings.DEBUG, settings.OUTBOUND_ALLOWED_NETWORKS = True, ["127.0.0.1/32"]
