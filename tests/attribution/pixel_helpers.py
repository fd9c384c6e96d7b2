"""Shared helpers for the pixel tests: a hit body as p.js sends it, and user agents (a browser, a crawler)."""

import json

CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
VISITOR = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def hit(workspace, **fields) -> dict:
    body = {"w": workspace.public_id, "v": VISITOR, "k": "pv", "u": "https://shop.example.com/", "r": "", "s": True}
    body.update(fields)
    return body


def post(client, body, *, ua=CHROME_UA, origin=None, raw=None, ip="203.0.113.7"):
    extra = {"HTTP_USER_AGENT": ua, "REMOTE_ADDR": ip}
    if origin:
        extra["HTTP_ORIGIN"] = origin
    data = raw if raw is not None else json.dumps(body)
    return client.generic("POST", "/collect", data, content_type="text/plain;charset=UTF-8", **extra)
