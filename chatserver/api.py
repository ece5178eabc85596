"""The REST API (django-ninja; OpenAPI document at /api/docs): one NinjaAPI, the routers of the
apps that own the endpoints, and one mapping of errors to responses."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from chatserver.errors import ChatError, InvalidPayload, PayloadTooLarge
from conversations.schemas import error_from_details

logger = logging.getLogger(__name__)


class ChatAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """The document, with the enums of path parameters the views check themselves."""
        from conversations.api import OPENAPI_PATH_ENUMS

        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []):
                    if parameter["name"] in OPENAPI_PATH_ENUMS:
                        parameter["schema"]["enum"] = OPENAPI_PATH_ENUMS[parameter["name"]]
        return schema


API_DESCRIPTION = (
    "The REST half of the chat server. Most of the API is Socket.IO: its events, payloads, acks and error codes"
    " are in the [AsyncAPI document](/api/asyncapi.json); the protocol in prose is in [/docs/](/docs/)."
)
api = ChatAPI(
    title="Customer chat server", version="1", description=API_DESCRIPTION, docs_url="/docs", urls_namespace="api"
)


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorOut(Schema):
    error: ErrorBody


@api.exception_handler(ChatError)
def chat_error(request: HttpRequest, error: ChatError) -> HttpResponse:
    return JsonResponse({"error": error.as_dict()}, status=error.http_status)


@api.exception_handler(NinjaValidationError)
def invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return chat_error(request, error_from_details(exc.errors, drop_location=2))  # less ("body", "payload")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Errors django-ninja raises itself, such as a body that is not JSON."""
    error = InvalidPayload(exc.message) if exc.status_code == 400 else ChatError(exc.message)
    error.http_status = exc.status_code
    return chat_error(request, error)


@api.exception_handler(RequestDataTooBig)
def body_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return chat_error(request, PayloadTooLarge("The request body is larger than the server accepts."))


@api.exception_handler(DataError)
def refused_by_database(request: HttpRequest, exc: DataError) -> HttpResponse:
    logger.warning("%s %s: the database refused a value: %s", request.method, request.path, exc)
    return chat_error(request, InvalidPayload("A value could not be stored."))


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("%s %s failed", request.method, request.path)
    return chat_error(request, ChatError())


def _mount() -> None:
    from agents.api import router as agent_router
    from callbacks.api import router as callback_router
    from connectors.api import router as campaign_router
    from conversations.api import router as customer_router
    from widget.api import router as widget_router

    api.add_router("/customer", customer_router)
    api.add_router("/customer", widget_router)
    api.add_router("/customer", callback_router)
    api.add_router("/agent", agent_router)
    api.add_router("/campaign", campaign_router)


_mount()
