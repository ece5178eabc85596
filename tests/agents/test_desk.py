"""The agent desk's pages, with Django's test client (the browser story is tests/e2e/test_agent_desk.py)."""

import json
import re

import pytest
from django.conf import settings
from django.core.cache import cache

from agents.services import agent_create

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def no_login_failures_counted():
    cache.clear()
    yield
    cache.clear()


def make_agent(username="alice", name="Alice Smith"):
    return agent_create(username=username, password=PASSWORD, queues=["default"], name=name)


def test_the_desk_loads_the_pinned_socket_io_client_from_the_server_itself(client):
    client.force_login(make_agent().user)
    page = client.get("/agent/").content.decode()

    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts == [
        "/static/vendor/socket.io-client/socket.io.min.js",
        "/static/agent/desk.js",
        "/static/agent/callbacks.js",
    ]
    pinned = json.loads((settings.BASE_DIR / "package.json").read_text())["dependencies"]["socket.io-client"]
    vendored = settings.BASE_DIR / "static/vendor/socket.io-client/socket.io.min.js"
    assert f"Socket.IO v{pinned}\n" in vendored.read_text()[:200]


def test_names_reach_the_desk_escaped(client):
    client.force_login(make_agent(name="Eve <script>alert(1)</script>").user)
    page = client.get("/agent/").content.decode()
    assert "Eve &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page


def test_the_desk_login_form_is_throttled_together_with_the_api_login(client, settings):
    settings.CHAT_LOGIN_MAX_FAILURES = 3
    make_agent()
    for _ in range(3):
        refused = client.post("/agent/login/", {"username": "alice", "password": "guess"})
        assert refused.status_code == 200
        assert "Please enter a correct username and password" in refused.content.decode()

    throttled = client.post("/agent/login/", {"username": "alice", "password": PASSWORD})
    assert "Too many failed logins" in throttled.content.decode()
    assert "_auth_user_id" not in client.session
    api = client.post("/api/agent/login", {"username": "alice", "password": PASSWORD}, content_type="application/json")
    assert api.status_code == 429


def test_a_good_login_clears_the_failures_counted_against_the_username_only(client, settings):
    settings.CHAT_LOGIN_MAX_FAILURES = 3
    make_agent()
    for _ in range(2):
        client.post("/agent/login/", {"username": "alice", "password": "guess"})
    logged_in = client.post("/agent/login/", {"username": "alice", "password": PASSWORD})
    assert (logged_in.status_code, logged_in["Location"]) == (302, "/agent/")
    client.logout()

    client.post("/agent/login/", {"username": "alice", "password": "guess"}, REMOTE_ADDR="192.0.2.7")
    elsewhere = client.post("/agent/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="192.0.2.7")
    assert elsewhere.status_code == 302  # 1 failure counted against alice since her login, not 3


def test_logging_out_takes_a_post_and_leads_back_to_the_login_page(client):
    client.force_login(make_agent().user)
    assert client.get("/agent/logout/").status_code == 405
    assert client.get("/agent/").status_code == 200

    out = client.post("/agent/logout/")
    assert (out.status_code, out["Location"]) == (302, "/agent/login/")
    assert client.get("/agent/")["Location"] == "/agent/login/?next=/agent/"
