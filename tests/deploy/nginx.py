"""The shipped nginx site (deploy/nginx.conf) run by a private nginx: own prefix, ports and certificate.

The site file is used as shipped; only the machine-specific parts the README tells a person to
change are substituted (ports, certificate, static folder, gunicorn's address), and each must be
found exactly once, so a change to the file cannot slip past the tests unnoticed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.servers import ROOT, free_port

SITE = ROOT / "deploy" / "nginx.conf"
HOST = "microblog.example.org"

# What a person changes when installing the site, and what the test puts there instead.
PLACES = {
    "listen 80;": "listen 127.0.0.1:{http_port};",
    "listen 443 ssl http2;": "listen 127.0.0.1:{https_port} ssl http2;",
    f"/etc/letsencrypt/live/{HOST}/fullchain.pem": "{certificate}",
    f"/etc/letsencrypt/live/{HOST}/privkey.pem": "{key}",
    "root /srv/microblog/microblog;": f"root {ROOT}/microblog;",
    "/srv/microblog/instance/media/": "{media}/",
    "server 127.0.0.1:8000;": "server 127.0.0.1:{app_port};",
}

# The parts of /etc/nginx/nginx.conf a site relies on, with every path inside the test's folder.
MAIN = """
{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
"""


def make_certificate(openssl: str, folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the site's name and 127.0.0.1, valid for a day."""
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", f"/CN={HOST}",
                    "-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True, timeout=30)
    return certificate, key


def site_config(**values: object) -> str:
    text = SITE.read_text()
    for shipped, ours in PLACES.items():
        count = text.count(shipped)
        assert count == 1, f"deploy/nginx.conf has {count} copies of {shipped!r}; the test expects one"
        text = text.replace(shipped, ours.format(**values))
    return text


@dataclass
class Nginx:
    process: subprocess.Popen
    folder: Path
    http_port: int
    https_port: int

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def error_log(self) -> str:
        return (self.folder / "error.log").read_text() if (self.folder / "error.log").exists() else ""


def start_nginx(nginx: str, openssl: str, folder: Path, app_port: int, media: Path) -> Nginx:
    """nginx in the foreground with the shipped site in front of 127.0.0.1:``app_port``, serving the
    media files of the folder ``media``."""
    folder.mkdir(parents=True, exist_ok=True)
    certificate, key = make_certificate(openssl, folder)
    http_port, https_port = free_port(), free_port()
    (folder / "site.conf").write_text(site_config(http_port=http_port, https_port=https_port,
                                                  certificate=certificate, key=key, app_port=app_port,
                                                  media=media))
    # As root, nginx's workers would switch to "nobody", who cannot enter pytest's private folders.
    user = "user root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(MAIN.format(folder=folder, user=user))
    command = [nginx, "-e", str(folder / "error.log"), "-p", str(folder), "-c", str(folder / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT, start_new_session=True)
    server = Nginx(process, folder, http_port, https_port)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited:\n{server.error_log()}")
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise AssertionError(f"nginx did not start:\n{server.error_log()}")
