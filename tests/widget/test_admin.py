"""Widget sites in the admin: the identity secret is shown once, and only its fingerprint stays."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from widget import identity
from widget.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def shown(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_adding_a_site_shows_its_secret_once_and_allows_its_origin(admin_client):
    form = {"name": "Fern shop", "origin": "HTTPS://Shop.Example.com/", "is_active": "on"}
    response = admin_client.post(reverse("admin:widget_site_add"), form, follow=True)
    site = Site.objects.get()
    assert site.origin == "https://shop.example.com"
    secret = identity.site_secret(site)
    assert any(secret in message for message in shown(response))
    assert site.secret_fingerprint == identity.fingerprint(secret)
    page = admin_client.get(reverse("admin:widget_site_change", args=[site.pk])).content.decode()
    assert secret not in page and site.secret_fingerprint in page
    allowed = admin_client.get("/api/customer/queues", headers={"Origin": "https://shop.example.com"})
    assert allowed.status_code == 200


def test_an_origin_with_a_path_is_refused(admin_client):
    form = {"name": "Fern shop", "origin": "https://shop.example.com/help", "is_active": "on"}
    response = admin_client.post(reverse("admin:widget_site_add"), form)
    assert response.status_code == 200  # the form again, with the error
    assert "An origin is a scheme and a host" in response.content.decode()
    assert Site.objects.count() == 0


def test_regenerating_the_secret_replaces_it(admin_client):
    site = Site.objects.create(name="Fern shop", origin="https://shop.example.com")
    old = identity.site_secret(site)
    response = admin_client.post(
        reverse("admin:widget_site_changelist"),
        {"action": "regenerate_secret", "_selected_action": [site.pk]},
        follow=True,
    )
    site.refresh_from_db()
    new = identity.site_secret(site)
    assert new != old
    assert any(new in message for message in shown(response))
