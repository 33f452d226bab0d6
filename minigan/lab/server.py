"""The lab's web server (aiohttp): the page's own files, and one WebSocket for everything else.

    GET /?token=T                 the page (static/index.html, with the token put in its links)
    GET /static/NAME?token=T      one of the page's files (NAME from a fixed list: no paths)
    GET /ws?token=T               the WebSocket: commands in, frames and settings out (JSON)

Security, as Jupyter learned it:

- every request must carry the lab's token (``secrets.token_urlsafe``, printed at start):
  without it, or with another, the answer is 403;
- the Host header must name this server (127.0.0.1, localhost or the --host given, with
  its port; with --allow-remote also this machine's own names and addresses): a page on
  another site that points its own name at 127.0.0.1 (DNS rebinding) gets 403;
- a WebSocket whose Origin is not the page's own is refused (403), so another site open in
  the same browser cannot drive the lab;
- only the files listed in ``static/`` at start are served, by name, so no path reaches
  anything else ("../" and its encodings get 404);
- "save run" takes no path from the page: it makes a new folder under --out.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import os

from aiohttp import WSMsgType, web

from minigan.lab.frames import to_json_ready

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".png": "image/png"}
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "no-referrer",
           "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; connect-src 'self'; "
                                      "frame-ancestors 'none'"}
MAX_MESSAGE = 1 << 20      # a command from the page is small: drawn points at most


def static_files() -> dict:
    """{name: bytes} of the page's files, read once at start."""
    files = {}
    for name in sorted(os.listdir(STATIC)):
        path = os.path.join(STATIC, name)
        if os.path.isfile(path) and os.path.splitext(name)[1] in TYPES:
            with open(path, "rb") as f:
                files[name] = f.read()
    return files


class LabServer:
    """The aiohttp application of one lab: ``lab`` (a worker.Lab), its token, the hosts it answers to."""

    def __init__(self, lab, token: str, hosts: list):
        self.lab, self.token = lab, token
        self.hosts = set(hosts)                                   # "127.0.0.1:8000", "localhost:8000", ...
        self.origins = {f"http://{host}" for host in self.hosts}  # the page's own origin, as a browser sends it
        self.files = static_files()
        self.clients = set()
        self.loop = None
        self.app = web.Application(middlewares=[self.guard], client_max_size=MAX_MESSAGE)
        self.app.router.add_get("/", self.index)
        self.app.router.add_get("/static/{name}", self.static)
        self.app.router.add_get("/ws", self.websocket)

    # ---- every request -----------------------------------------------------------------------
    @web.middleware
    async def guard(self, request, handler):
        """403 unless the Host is ours and the token is right; the safety headers on every answer."""
        if request.host not in self.hosts:
            return forbidden(f"this lab answers to {sorted(self.hosts)[0]}, not to host {request.host!r}")
        given = request.query.get("token", "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):   # in constant time
            return forbidden("this lab needs its token: open the address it printed (…/?token=…)")
        response = await handler(request)
        response.headers.update(HEADERS)
        return response

    async def index(self, request):
        page = self.files["index.html"].decode().replace("{{token}}", self.token)
        return web.Response(text=page, content_type="text/html")

    async def static(self, request):
        name = request.match_info["name"]
        if name not in self.files or name == "index.html":       # by name only: nothing else exists here
            raise web.HTTPNotFound(text=f"no file {name!r} in the lab's page")
        return web.Response(body=self.files[name], content_type=TYPES[os.path.splitext(name)[1]])

    # ---- the WebSocket -----------------------------------------------------------------------
    async def websocket(self, request):
        origin = request.headers.get("Origin")
        if origin not in self.origins:
            return forbidden(f"a WebSocket from origin {origin!r} is refused: only the lab's own page may connect")
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE)
        await ws.prepare(request)
        self.clients.add(ws)
        self.lab.post({"cmd": "hello"})
        self.lab.frame_wanted.set()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    command = json.loads(message.data)
                except (ValueError, RecursionError) as error:   # 200,000 "[" exhaust the parser's stack
                    why = "JSON nested too deeply" if isinstance(error, RecursionError) else "text that is not JSON"
                    await ws.send_str(json.dumps({"type": "error", "message": f"command: got {why}, wanted a "
                                                                              f"JSON object with a 'cmd' string"}))
                    continue
                if isinstance(command, dict):
                    self.lab.acknowledge(command)           # pause at once, not after the update under way
                self.lab.post(command)
        finally:
            self.clients.discard(ws)
        return ws

    def publish(self, message: dict) -> None:
        """Send ``message`` to every page (called from the worker thread: encoded there, sent here)."""
        text = json.dumps(to_json_ready(message), separators=(",", ":"))
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.deliver(text, message["type"] == "frame")))

    async def deliver(self, text: str, is_frame: bool) -> None:
        clients = list(self.clients)
        await asyncio.gather(*(ws.send_str(text) for ws in clients if not ws.closed), return_exceptions=True)
        if is_frame and self.clients:
            self.lab.frame_wanted.set()                             # sent: the worker may build the next


def forbidden(why: str):
    return web.Response(status=403, text=f"403 Forbidden: {why}\n", headers={"Cache-Control": "no-store"})
