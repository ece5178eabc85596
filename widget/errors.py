"""The widget's errors, in the same shape as chatserver.errors (listed in docs/errors.md)."""

from chatserver.errors import ChatError


class OriginNotAllowed(ChatError):
    code = "ORIGIN_NOT_ALLOWED"
    http_status = 403
    default_message = "This website is not allowed to use the chat; add its origin to the widget sites in admin."


class AttachmentTooLarge(ChatError):
    code = "ATTACHMENT_TOO_LARGE"
    http_status = 413
    default_message = "The file is larger than the server accepts."


class AttachmentTypeNotAllowed(ChatError):
    code = "ATTACHMENT_TYPE_NOT_ALLOWED"
    http_status = 415
    default_message = "Files of this type cannot be sent."


class AttachmentNotValid(ChatError):
    code = "ATTACHMENT_NOT_VALID"
    http_status = 422
    default_message = "The file is not what it claims to be."


class IdentityNotVerified(ChatError):
    code = "IDENTITY_NOT_VERIFIED"
    http_status = 401
    default_message = "identityHash is missing or does not match the visitor's refId or email."


WIDGET_ERRORS: list[type[ChatError]] = [
    OriginNotAllowed,
    AttachmentTooLarge,
    AttachmentTypeNotAllowed,
    AttachmentNotValid,
    IdentityNotVerified,
]
