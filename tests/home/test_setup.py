"""The first-run set-up page: open to the machine itself or to a token holder, never to the network."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings

from agents.models import AgentProfile
from home import first_run

pytestmark = pytest.mark.django_db

REMOTE = "203.0.113.9"
FORM = {
    "username": "ops",
    "email": "ops@example.com",
    "password1": "a long enough passphrase",
    "password2": "a long enough passphrase",
    "be_agent": "on",
    "agent_name": "Olga Ops",
    "queue": "Support",
}


@pytest.fixture(autouse=True)
def own_var_dir(tmp_path):
    cache.clear()
    with override_settings(VAR_DIR=tmp_path):
        yield tmp_path


def users() -> int:
    return get_user_model().objects.count()


def test_from_the_machine_itself_the_page_creates_the_operator_and_agent_and_logs_them_in():
    client = Client(REMOTE_ADDR="127.0.0.1")
    assert client.get("/setup/").status_code == 200

    response = client.post("/setup/", FORM)

    assert response.status_code == 302 and response["Location"] == "/"
    operator = get_user_model().objects.get(username="ops")
    assert operator.is_superuser and operator.is_staff and operator.check_password(FORM["password1"])
    agent = AgentProfile.objects.get(user=operator)
    assert agent.display_name == "Olga Ops"
    assert [q.name for q in agent.queues.all()] == ["Support"]
    landing = client.get("/").content.decode()
    assert "Operator and agent &#x27;ops&#x27; created" in landing
    assert 'data-operator="yes"' in landing
    assert client.get("/admin/").status_code == 200  # logged in


def test_from_the_network_without_a_token_the_page_is_refused_and_nothing_is_created():
    client = Client(REMOTE_ADDR=REMOTE)

    page = client.get("/setup/")
    posted = client.post("/setup/", FORM)

    assert page.status_code == 403 and 'data-reason="remote"' in page.content.decode()
    assert posted.status_code == 403
    assert users() == 0


def test_ipv6_loopback_counts_as_this_machine_and_a_proxy_header_does_not():
    assert Client(REMOTE_ADDR="::1").get("/setup/").status_code == 200
    proxied = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=REMOTE)
    assert proxied.get("/setup/").status_code == 403
    assert proxied.post("/setup/", FORM).status_code == 403
    assert Client(REMOTE_ADDR="127.0.0.1", HTTP_FORWARDED=f"for={REMOTE}").get("/setup/").status_code == 403
    assert users() == 0


def test_a_printed_token_opens_the_page_from_the_network_and_leaves_the_address_bar():
    token = first_run.setup_token_issue()
    client = Client(REMOTE_ADDR=REMOTE)

    response = client.get(f"/setup/?token={token}")
    assert response.status_code == 302 and response["Location"] == "/setup/"
    assert client.get("/setup/").status_code == 200
    assert client.post("/setup/", {**FORM, "be_agent": ""}).status_code == 302

    assert get_user_model().objects.get(username="ops").is_superuser
    assert not AgentProfile.objects.exists()


def test_a_wrong_token_is_refused(own_var_dir):
    first_run.setup_token_issue()
    client = Client(REMOTE_ADDR=REMOTE)

    response = client.get("/setup/?token=not-the-token")

    assert response.status_code == 403 and 'data-reason="token"' in response.content.decode()
    assert client.post("/setup/", FORM).status_code == 403
    assert users() == 0


def test_the_token_file_holds_hashes_only_and_is_gone_with_the_page_once_the_operator_exists(
    own_var_dir, django_capture_on_commit_callbacks
):
    token = first_run.setup_token_issue()
    stored = (own_var_dir / "setup-tokens").read_text()
    assert token not in stored
    assert oct((own_var_dir / "setup-tokens").stat().st_mode & 0o777) == "0o600"

    with django_capture_on_commit_callbacks(execute=True):
        Client(REMOTE_ADDR="127.0.0.1").post("/setup/", FORM)

    assert not (own_var_dir / "setup-tokens").exists()
    assert not first_run.setup_token_valid(token)
    for client in (Client(REMOTE_ADDR="127.0.0.1"), Client(REMOTE_ADDR=REMOTE)):
        assert client.get("/setup/").status_code == 404
        assert client.get(f"/setup/?token={token}").status_code == 404
        assert client.post("/setup/", {**FORM, "username": "second"}).status_code == 404
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["ops"]


def test_the_page_needs_the_csrf_token():
    client = Client(REMOTE_ADDR="127.0.0.1", enforce_csrf_checks=True)

    assert client.post("/setup/", FORM).status_code == 403
    assert users() == 0


def test_a_weak_or_mismatched_password_is_refused_with_a_reason_and_nothing_is_created():
    client = Client(REMOTE_ADDR="127.0.0.1")

    weak = client.post("/setup/", {**FORM, "password1": "password", "password2": "password"})
    different = client.post("/setup/", {**FORM, "password2": "another long passphrase"})

    assert weak.status_code == 200 and "too common" in weak.content.decode()
    assert different.status_code == 200 and "didn’t match" in different.content.decode()
    assert users() == 0


def test_failed_attempts_are_throttled_per_address():
    client = Client(REMOTE_ADDR=REMOTE)
    for _ in range(first_run.MAX_FAILURES):
        assert client.get("/setup/?token=guess").status_code == 403

    assert client.get("/setup/?token=guess").status_code == 429
    assert Client(REMOTE_ADDR="127.0.0.1").get("/setup/").status_code == 200  # another address is not held up


def test_the_landing_page_links_everywhere_and_says_no_operator_exists_yet():
    page = Client().get("/").content.decode()

    for path in ("/demo/", "/agent/", "/admin/", "/api/docs", "/api/asyncapi.json", "/docs/", "/setup/"):
        assert f'href="{path}"' in page
    assert 'data-operator="no"' in page


def test_the_start_up_message_prints_the_same_links_and_a_token_that_works(own_var_dir):
    from chatserver.management.commands.serve import start_up_message

    message = start_up_message("0.0.0.0", 8080)

    for path in ("/demo/", "/agent/", "/admin/", "/api/docs", "/api/asyncapi.json", "/docs/"):
        assert f"http://127.0.0.1:8080{path}" in message
    token = message.split("?token=", 1)[1].split()[0]
    assert first_run.setup_token_valid(token)
    get_user_model().objects.create_superuser("ops", password="x")
    assert "token" not in start_up_message("127.0.0.1", 8080)


def test_protocol_docs_are_served_as_plain_text_and_nothing_else_is():
    client = Client()
    assert "customer-api.md" in client.get("/docs/").content.decode()
    response = client.get("/docs/errors.md")
    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    assert "PDF_UNAVAILABLE" in response.content.decode()
    assert client.get("/docs/..%2FREADME.md").status_code == 404
    assert client.get("/docs/secret_key").status_code == 404


def test_an_existing_username_is_refused_and_that_account_is_left_alone():
    existing = get_user_model().objects.create_user("ops", password="the agent's own password")

    response = Client(REMOTE_ADDR="127.0.0.1").post("/setup/", FORM)

    assert response.status_code == 200 and "already exists" in response.content.decode()
    existing.refresh_from_db()
    assert not existing.is_superuser and existing.check_password("the agent's own password")
