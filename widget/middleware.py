"""Calls to /api/customer/* from a page of an origin that is not allowed are refused outright.

CORS alone would only stop the browser from reading the answer, and a multipart upload or a
form post is sent without a preflight: the request would still be carried out."""

from django.http import JsonResponse

from widget.errors import OriginNotAllowed
from widget.origins import request_origin_allowed

GUARDED_PREFIX = "/api/customer/"


class RefuseForeignOrigins:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(GUARDED_PREFIX) and not request_origin_allowed(request):
            error = OriginNotAllowed()
            return JsonResponse({"error": error.as_dict()}, status=error.http_status)
        return self.get_response(request)


def cors_for_widget_sites(sender, request, **kwargs) -> bool:
    """django-cors-headers' check_request_enabled: the customer API answers allowed origins."""
    return request.path_info.startswith(GUARDED_PREFIX) and request_origin_allowed(request)
