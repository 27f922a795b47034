"""A real remote cache for the tests: nginx with its WebDAV module on 127.0.0.1, configured as
Bazel's remote-caching documentation describes an HTTP cache backend (``GET``/``PUT`` below one
root, ``dav_methods PUT``, ``create_full_put_path``, a body size limit), optionally behind
``auth_basic``.

nginx stores what it is sent and checks nothing, as a plain HTTP cache does: what apipack reads
back (a blob that does not hash to its name, an action-cache value that is not an
``ActionResult``) is for apipack's client to reject. The access log records, per request, the
connection serial, method, path, status and authenticated user, never a header's value.
``.ci/run`` installs nginx from Debian (``nginx-light``) when it is absent.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

#: what a test says when nginx is absent: the one thing a fresh machine may lack here
NOT_INSTALLED = "nginx is not installed (apt-get install nginx-light, as .ci/run does)"

CONFIG = """\
daemon off;
master_process off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format requests '$connection $request_method $uri $status "$remote_user"';
    access_log {folder}/access.log requests;
    client_body_temp_path {folder}/temp/body;
    proxy_temp_path {folder}/temp/proxy;
    fastcgi_temp_path {folder}/temp/fastcgi;
    uwsgi_temp_path {folder}/temp/uwsgi;
    scgi_temp_path {folder}/temp/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            root {folder}/data;
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 16m;
{auth}        }}
    }}
}}
"""
AUTH = """\
            auth_basic "apipack cache";
            auth_basic_user_file {folder}/htpasswd;
"""


def nginx_binary() -> str | None:
    """nginx from PATH or Debian's place for it (``/usr/sbin`` is not on every user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    debian = Path("/usr/sbin/nginx")
    return str(debian) if debian.is_file() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def htpasswd_line(user: str, password: str) -> str:
    """An htpasswd entry in the ``{SHA}`` scheme, which nginx's auth_basic reads."""
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    return f"{user}:{{SHA}}{digest}\n"


@dataclass(frozen=True)
class Request:
    connection: int
    method: str
    path: str
    status: int
    user: str


@dataclass
class Nginx:
    """A running nginx serving one cache folder."""

    folder: Path
    url: str
    process: subprocess.Popen[bytes]

    def blob(self, kind: str, name: str) -> Path:
        """Where the server keeps ``/<kind>/<name>`` on disk."""
        return self.folder / "data" / kind / name

    def requests(self) -> list[Request]:
        """Every request answered so far, in order (nginx writes the log line on completion)."""
        log = self.folder / "access.log"
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        requests = []
        for line in lines:
            connection, method, path, status, user = line.split(" ", 4)
            user = user.strip('"')
            requests.append(Request(int(connection), method, path, int(status), user))
        return requests

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nginx(
    binary: str, folder: Path, user: str | None = None, password: str | None = None
) -> Nginx:
    """nginx on a free port of 127.0.0.1 with an empty cache below *folder*; with *user* and
    *password*, every request needs them (basic auth)."""
    for sub in ("data", "temp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    auth = ""
    if user is not None and password is not None:
        (folder / "htpasswd").write_text(htpasswd_line(user, password), encoding="utf-8")
        auth = AUTH.format(folder=folder)
    port = free_port()
    config = folder / "nginx.conf"
    config.write_text(CONFIG.format(folder=folder, port=port, auth=auth), encoding="utf-8")
    out = (folder / "stderr.log").open("wb")
    with out:
        # -e: nginx would otherwise open Debian's /var/log/nginx/error.log before reading ours
        process = subprocess.Popen(
            [binary, "-p", str(folder), "-c", str(config), "-e", str(folder / "error.log")],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Nginx(folder, f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = [folder / "stderr.log", folder / "error.log"]
            text = "".join(p.read_text(errors="replace") for p in logs if p.exists())
            raise RuntimeError(f"nginx exited: {text[-2000:]}")
        try:
            httpx.head(f"{server.url}/", timeout=1)  # any answer (404, or 401 with auth) will do
            return server
        except httpx.HTTPError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError("nginx did not start listening within 30 s")
