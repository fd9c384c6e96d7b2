"""The base of the local fakes of processors' REST APIs: a real HTTP server on 127.0.0.1 in a thread,
bearer-token auth, a request log, and 429 once or 500 on demand. A fake routes GET requests in
`route` and answers with the processor's own shapes (see the fakes beside this module)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

Answer = tuple[int, dict | None, dict]  # (status, JSON body or None, extra headers)


class FakeApi:
    prefix = ""  # the path of the API's base URL, e.g. "/v1"
    not_found: dict = {"detail": "Not found"}
    unauthorized: dict = {"error": "invalid_token"}
    unauthorized_status = 401

    def __init__(self, *, token: str):
        self.token = token
        self.throttle: set[tuple[str, int]] = set()  # (resource, page) answered once with 429
        self.retry_after = "2"
        self.failing: set[str] = set()  # resources answering 500
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def route(self, path: list[str], query: dict[str, list[str]], headers) -> Answer:
        """Answer GET `path` (its segments after `prefix`) with `query` (parse_qs: name → values)."""
        raise NotImplementedError

    def refused(self, resource: str, page: int) -> Answer | None:
        """The 429 (once) or 500 a list page answers instead of its items, if asked to."""
        if (resource, page) in self.throttle:
            self.throttle.discard((resource, page))
            return 429, None, {"retry-after": self.retry_after}
        if resource in self.failing:
            return 500, {"detail": "Internal Server Error"}, {}
        return None

    def authorized(self, headers) -> bool:
        return headers.get("Authorization") == f"Bearer {self.token}"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlparse(self.path)
                fake.requests.append(self.path)
                if not fake.authorized(self.headers):
                    return self._send(fake.unauthorized_status, fake.unauthorized, {})
                if not url.path.startswith(fake.prefix):
                    return self._send(404, fake.not_found, {})
                path = [part for part in url.path.removeprefix(fake.prefix).split("/") if part]
                self._send(*fake.route(path, parse_qs(url.query), self.headers))

            def _send(self, code: int, body, headers: dict):
                raw = json.dumps(body).encode() if body is not None else b""
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        return Handler
