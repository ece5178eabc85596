"""Behind a TLS proxy (BEHIND_TLS_PROXY=1): Secure cookies and HSTS on what the proxy calls https."""

import httpx
import pytest

from tests.conftest import start_server, stop_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tls_server(server_env, tmp_path):
    running = start_server(env={**server_env, "BEHIND_TLS_PROXY": "1"}, log_path=tmp_path / "server.log")
    yield running
    stop_server(running)


async def test_cookies_are_secure_and_hsts_is_sent_behind_tls(tls_server):
    async with httpx.AsyncClient(base_url=tls_server.url, headers={"X-Forwarded-Proto": "https"}) as http:
        page = await http.get("/agent/login/")
        assert page.status_code == 200
        assert page.headers["strict-transport-security"].startswith("max-age=31536000")
        csrf = next(c for c in page.headers.get_list("set-cookie") if c.startswith("csrftoken="))
        assert "Secure" in csrf
        # Plain http through the proxy is sent to https.
        plain = await http.get("/agent/login/", headers={"X-Forwarded-Proto": "http"})
        assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
