"""Identity that cannot be spoofed: a site's back end signs its visitor with
identityHash = HMAC-SHA256(site secret, refId or email), hex.

The site secret must be known to compute the HMAC, so it cannot be stored as a hash; it is not
stored at all: it is derived from SECRET_KEY and the site's random salt. Reading the database
alone gives no secret; regenerating the salt (admin action) replaces it.
"""

import hashlib
import hmac

from django.conf import settings

from conversations.schemas import InitRequest
from widget.errors import IdentityNotVerified
from widget.models import Site
from widget.origins import normalise


def site_secret(site: Site) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"widget-site:{site.secret_salt}".encode(), hashlib.sha256
    ).hexdigest()


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def identity_hash(secret: str, claimed: str) -> str:
    return hmac.new(secret.encode(), claimed.encode(), hashlib.sha256).hexdigest()


def site_for_origin(origin: str | None) -> Site | None:
    if not origin:
        return None
    return Site.objects.filter(origin=normalise(origin), is_active=True).first()


def init_is_verified(*, origin: str | None, request: InitRequest) -> bool:
    """Whether the init proves who the visitor is. Raises IdentityNotVerified (401) when it
    gives a hash that does not match, or when its site requires a hash for a named visitor."""
    claimed = request.ref_id or request.email
    site = site_for_origin(origin)
    if request.identity_hash:
        if site is None or not claimed:
            raise IdentityNotVerified("identityHash is only accepted from a widget site, with a refId or email.")
        expected = identity_hash(site_secret(site), claimed)
        if not hmac.compare_digest(expected, request.identity_hash.lower()):
            raise IdentityNotVerified()
        return True
    if site is not None and site.require_identity and claimed:
        raise IdentityNotVerified("This site requires an identityHash for a visitor with a refId or email.")
    return False
