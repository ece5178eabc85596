"""REST endpoints of callbacks and business hours for the web widget: /api/customer/queues and
/api/customer/callback[/<id>]. See docs/callbacks.md."""

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from callbacks import selectors, services
from callbacks.schemas import CallbackRequest
from chatserver.api import ErrorOut

router = Router(tags=["callbacks"])


def _key(request: HttpRequest, key: str | None) -> str:
    return request.headers.get("X-Callback-Key") or key or ""


@router.post("/callback", response={200: dict, 201: dict, 400: ErrorOut, 409: ErrorOut, 413: ErrorOut, 429: ErrorOut})
def customer_callback(request: HttpRequest, payload: CallbackRequest):
    """Ask to be called back. 201 with a new request and its key; 200 with the open request
    this replays (a requestId again: a new key; the same phone and queue: no key)."""
    result = services.callback_request(request=payload, client_ip=request.META.get("REMOTE_ADDR") or None)
    body = selectors.customer_json(result.callback) | {"key": result.key, "replayed": not result.created}
    return Status(201 if result.created else 200, body)


@router.get("/callback/{callback_id}", response={200: dict, 404: ErrorOut})
def customer_callback_state(request: HttpRequest, callback_id: str, key: str | None = None):
    """The state of a callback; the key from its creation in X-Callback-Key (or ?key=)."""
    return selectors.customer_json(selectors.callback_for_key(callback_id=callback_id, key=_key(request, key)))


@router.delete("/callback/{callback_id}", response={200: dict, 404: ErrorOut, 409: ErrorOut})
def customer_callback_cancel(request: HttpRequest, callback_id: str, key: str | None = None):
    """Cancel a callback that is still open."""
    return selectors.customer_json(
        services.callback_cancel_by_customer(callback_id=callback_id, key=_key(request, key))
    )
