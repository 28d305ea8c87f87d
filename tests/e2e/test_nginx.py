"""The shipped nginx configuration (deploy/nginx/) in front of `mapservice serve` (issue 15).

nginx runs as the current user on a free port of 127.0.0.1, with a generated main file that
includes deploy/nginx/mapservice.conf unchanged and deploy/nginx/mapservice-http.conf with only
its upstream port changed (to the test server's). Debian's nginx is installed by .ci/run.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, free_port, start_server, stop_server
from tests.serving_clients import Clients, normal_requests, port_of, raw

pytestmark = pytest.mark.e2e

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if found is None:
        if os.environ.get("NGINX_TEST_REQUIRED") == "1":
            pytest.fail("NGINX_TEST_REQUIRED=1 but nginx is not installed")
        pytest.skip("nginx is not installed (Debian: apt-get install nginx-light)")
    return found


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The service as a public deployment runs it: trusting one proxy's X-Forwarded-* headers."""
    instance = tmp_path_factory.mktemp("instance")
    started, log = start_server(instance, {"MAPSERVICE_STORE": "", "MAPSERVICE_PROXY_HOPS": "1"})
    yield started
    stop_server(started, log)


@pytest.fixture(scope="module")
def nginx(service: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    binary = nginx_binary()
    prefix = tmp_path_factory.mktemp("nginx")
    http_part = (DEPLOY / "mapservice-http.conf").read_text()
    assert "server 127.0.0.1:8000;" in http_part
    (prefix / "mapservice-http.conf").write_text(
        http_part.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{port_of(service)};")
    )
    port = free_port()
    temp = {kind: prefix / kind for kind in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    # Run as root (a CI container), nginx's workers would become "nobody", who cannot write here.
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(
        f"""{user}
worker_processes 1;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {prefix}/mapservice-http.conf;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        include {DEPLOY}/mapservice.conf;
    }}
}}
"""
    )
    command = [binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(prefix / "nginx.conf")]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [*command, "-g", f"daemon off; pid {prefix}/nginx.pid;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError((prefix / "error.log").read_text()[-3000:]) from None
            time.sleep(0.2)
    yield port
    process.terminate()
    process.wait(timeout=20)


def test_a_normal_request_passes_through_with_its_headers(nginx: int) -> None:
    url = f"http://127.0.0.1:{nginx}"
    request = urllib.request.Request(url + "/api", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        headers = response.headers
        assert response.status == 200
        assert headers["Content-Type"] == "application/json"
        assert headers["Content-Encoding"] == "gzip"  # the service's compression passes through
        assert headers["ETag"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Server"] == "nginx"  # no version number
    with urllib.request.urlopen(url + "/api?f=json", timeout=10) as response:
        links = json.loads(response.read())["links"]
    # Links name the address the client used (nginx's port), from X-Forwarded-Host / -Proto.
    assert all(link["href"].startswith(url + "/") for link in links), links


def test_slow_clients_in_front_of_nginx_do_not_stop_normal_requests(nginx: int) -> None:
    # The same attack that stops the bare gthread server (tests/e2e/test_serving.py).
    with Clients(nginx, 30, slow=True):
        outcomes = normal_requests(f"http://127.0.0.1:{nginx}", 12)
    assert outcomes == [200] * 12


def json_error(status: int, answer: tuple[int, dict[str, str], bytes]) -> dict[str, Any]:
    got, headers, body = answer
    assert got == status, body[:300]
    assert headers["content-type"] == "application/json"
    error: dict[str, Any] = json.loads(body)
    assert set(error) == {"code", "description"}
    return error


def test_a_body_over_16_mb_is_a_json_413(nginx: int) -> None:
    head = b"PUT /api/collections/districts/items/x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += b"Content-Type: application/geo+json\r\nContent-Length: %d\r\n\r\n" % (17 << 20)
    assert json_error(413, raw(nginx, head + b" " * (1 << 20)))["code"] == "PayloadTooLarge"


def test_a_long_uri_is_a_json_414(nginx: int) -> None:
    request = b"GET /api?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    assert json_error(414, raw(nginx, request))["code"] == "URITooLong"


def test_a_long_header_is_a_json_431(nginx: int) -> None:
    request = b"GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n"
    assert json_error(431, raw(nginx, request))["code"] == "RequestHeaderFieldsTooLarge"
