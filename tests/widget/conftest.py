import pytest


@pytest.fixture(autouse=True)
def media_in_a_temporary_folder(settings, tmp_path):
    """Uploads of each test land in a folder of its own, so 'nothing stored' can be checked."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fresh_site_origins():
    from widget import origins

    origins.forget_site_origins()
    yield
    origins.forget_site_origins()
