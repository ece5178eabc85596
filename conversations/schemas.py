"""Every payload that crosses the wire, shared by the REST views and the Socket.IO handlers.

Field names on the wire are camelCase, as in the Customer Channel API; top-level keys of the
init request are matched case-insensitively because the published document spells them both
ways ('Email', 'email').
"""

import json
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from chatserver.errors import InvalidPayload, PayloadTooLarge

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Slug = Annotated[
    str,
    BeforeValidator(lambda value: value.strip().lower() if isinstance(value, str) else value),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$"),
]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]

MAX_INIT_EXTRA_FIELDS = 20
MAX_INFO_BYTES = 4096
CLIENT_ACTIVITY_TYPES = ("typing", "read")


def _email_or_blank(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError as exc:
            raise ValueError("not a valid email address") from exc
    return value


# Blank, or an address Django's validator takes; the OpenAPI document says as much.
Email = Annotated[
    str,
    StringConstraints(max_length=254),
    AfterValidator(_email_or_blank),
    WithJsonSchema({"type": "string", "maxLength": 254, "anyOf": [{"maxLength": 0}, {"format": "email"}]}),
]


class WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        str_strip_whitespace=True,
        extra="ignore",
        allow_inf_nan=False,
        # Titles in the OpenAPI and AsyncAPI documents are the wire names (firstName, refId).
        field_title_generator=lambda name, field: field.alias or to_camel(name),
    )

    @field_validator("*", mode="after")
    @classmethod
    def no_nul_characters(cls, value: Any) -> Any:
        # PostgreSQL cannot store U+0000 in text; nobody means to send it.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


def _sane_moment(value: datetime | None) -> datetime | None:
    if value is not None and not 2000 <= value.year <= 2200:
        raise ValueError("must be a time between the years 2000 and 2200")
    return value


# The year's rule stated in the OpenAPI document too, so that generated requests are valid.
MOMENT_JSON_SCHEMA = {
    "anyOf": [{"type": "string", "format": "date-time", "pattern": "^(2[01][0-9]{2}|2200)-"}, {"type": "null"}]
}
Moment = Annotated[datetime | None, AfterValidator(_sane_moment), WithJsonSchema(MOMENT_JSON_SCHEMA)]
MAX_INFO_DEPTH = 10


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (counting stops past MAX_INFO_DEPTH)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_INFO_DEPTH:
                break
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def plain_json(value: Any, *, what: str) -> Any:
    """Refuse what JSON columns cannot hold or should not: NaN and infinities, NUL characters,
    and nesting deeper than MAX_INFO_DEPTH."""
    if _depth(value) > MAX_INFO_DEPTH:
        raise ValueError(f"{what} is nested deeper than {MAX_INFO_DEPTH} levels")
    try:
        dumped = json.dumps(value, allow_nan=False)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what} must be plain JSON (no NaN or Infinity)") from exc
    if "\\u0000" in dumped:
        raise ValueError(f"{what} must not contain NUL characters")
    return value


INIT_EXAMPLE = {
    "firstName": "Kashif",
    "email": "kashif@example.com",
    "channel": "web",
    "subject": "billing",
    "language": "en",
}


IDENTIFIER_FIELDS = ("phone", "email", "refId", "firstName", "lastName")


def _init_json_schema(schema: dict) -> None:
    """Say in the OpenAPI document what validation enforces beyond the fields' own types (so
    that generated requests are valid): the channel's pattern, at least one identifier, and
    what extra fields may be."""
    properties = schema["properties"]
    properties["channel"].update(pattern=r"^\s*[A-Za-z0-9][A-Za-z0-9_-]{0,31}\s*$", minLength=1, maxLength=200)
    schema["anyOf"] = [
        {"required": [name], "properties": {name: {"type": "string", "pattern": r"\S"}}} for name in IDENTIFIER_FIELDS
    ]
    schema["maxProperties"] = len(properties) + MAX_INIT_EXTRA_FIELDS
    schema["examples"] = [INIT_EXAMPLE]  # what /api/docs' "Try it out" sends: a body the server accepts
    schema["additionalProperties"] = {
        "anyOf": [{"type": "string", "maxLength": 500}, {"type": "number"}, {"type": "boolean"}, {"type": "null"}]
    }


class InitRequest(WireModel):
    """POST /api/customer/init"""

    model_config = ConfigDict(extra="allow", json_schema_extra=_init_json_schema)

    first_name: Short = ""
    last_name: Short = ""
    email: Email = ""
    phone: Annotated[str, StringConstraints(max_length=32, pattern=r"^[0-9+()\-. ]*$")] = ""
    channel: Slug
    language: Annotated[str, StringConstraints(max_length=16)] = ""
    subject: Short = ""
    ref_id: Short = ""
    url: Url = ""
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""
    request_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    timestamp: Moment = None
    identity_hash: Annotated[str, StringConstraints(max_length=128, pattern=r"^[0-9a-fA-F]*$")] = ""

    @model_validator(mode="before")
    @classmethod
    def match_keys_case_insensitively(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = {field.alias.lower(): field.alias for field in cls.model_fields.values()}
        return {known.get(str(key).lower(), key): value for key, value in data.items()}

    @model_validator(mode="after")
    def has_an_identifier(self) -> "InitRequest":
        if not (self.phone or self.email or self.ref_id or self.first_name or self.last_name):
            raise ValueError("give at least one identifier: phone, email, refId, firstName or lastName")
        extra = self.model_extra or {}
        if len(extra) > MAX_INIT_EXTRA_FIELDS:
            raise ValueError(f"at most {MAX_INIT_EXTRA_FIELDS} extra fields")
        for key, value in extra.items():
            if not isinstance(value, str | int | float | bool | None) or len(str(value)) > 500:
                raise ValueError(f"extra field '{key[:50]}' must be a short string, number or boolean")
        plain_json(extra, what="extra fields")
        return self


class ParticipantRef(WireModel):
    id: Id
    name: Name = ""


class JoinConversation(WireModel):
    conversation_id: Id
    participant: ParticipantRef
    request_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    timestamp: Moment = None
    last_sequence: Annotated[int, Field(ge=0)] | None = None


def _attachment_url(value: str | None) -> str | None:
    if value and urlsplit(value).scheme.lower() not in ("http", "https", "data", "file"):
        raise ValueError("URL scheme must be http, https, data or file")
    return value


class Attachment(WireModel):
    type: Annotated[str, StringConstraints(max_length=100)] = "application/octet-stream"
    name: Annotated[str, StringConstraints(max_length=255)] = ""
    content_url: Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_attachment_url)]
    thumbnail_url: Annotated[str, StringConstraints(max_length=2000), AfterValidator(_attachment_url)] | None = None


class SendMessage(WireModel):
    conversation_id: Id
    type: Literal["ChatMessage", "ActivityMessage"]
    request_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    timestamp: Moment = None
    from_: ParticipantRef | None = Field(None, alias="from")
    to: list[ParticipantRef] = Field(default_factory=list, max_length=50)
    text: str = ""
    language: Annotated[str, StringConstraints(max_length=16)] = ""
    tag: Literal["", "whisper"] = ""
    ref_id: Short = ""
    attachments: list[Attachment] = Field(default_factory=list)
    activity_type: str = ""
    info: dict[str, Any] = Field(default_factory=dict)

    @field_validator("tag", mode="before")
    @classmethod
    def tag_none_is_blank(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("request_id")
    @classmethod
    def blank_request_id_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("text")
    @classmethod
    def text_within_limit(cls, value: str) -> str:
        if len(value) > settings.CHAT_MAX_TEXT_LENGTH:
            raise PydanticCustomError(
                "too_long", "text is longer than {limit} characters", {"limit": settings.CHAT_MAX_TEXT_LENGTH}
            )
        return value

    @field_validator("attachments")
    @classmethod
    def attachments_within_limit(cls, value: list[Attachment]) -> list[Attachment]:
        if len(value) > settings.CHAT_MAX_ATTACHMENTS:
            raise PydanticCustomError(
                "too_long", "at most {limit} attachments", {"limit": settings.CHAT_MAX_ATTACHMENTS}
            )
        return value

    @field_validator("info")
    @classmethod
    def info_is_small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(repr(value)) > MAX_INFO_BYTES:
            raise PydanticCustomError("too_long", "info is longer than {limit} characters", {"limit": MAX_INFO_BYTES})
        return plain_json(value, what="info")

    @model_validator(mode="after")
    def fits_its_type(self) -> "SendMessage":
        if self.type == "ChatMessage":
            if not self.text.strip() and not self.attachments:
                raise ValueError("a ChatMessage needs text or attachments")
            if self.activity_type:
                raise ValueError("activityType belongs to an ActivityMessage")
        elif self.activity_type not in CLIENT_ACTIVITY_TYPES:
            raise ValueError(f"clients may send these activity types: {', '.join(CLIENT_ACTIVITY_TYPES)}")
        elif self.activity_type == "read" and not _is_sequence(self.info.get("sequence")):
            raise ValueError('a read activity needs info {"sequence": N}, the last sequence read')
        return self


def _is_sequence(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


class EndConversation(WireModel):
    conversation_id: Id
    request_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    timestamp: Moment = None


class RegisterConnector(WireModel):
    id: Slug
    name: Name = ""
    channel: Slug | None = None
    key: Annotated[str, StringConstraints(max_length=200)] = ""

    @model_validator(mode="after")
    def id_is_the_channel(self) -> "RegisterConnector":
        if self.channel is None:
            self.channel = self.id
        if self.channel != self.id:
            raise ValueError("a connector's id must be the same as its channel name")
        return self


_TOO_LARGE = {"string_too_long", "too_long"}
MAX_ERROR_FIELDS = 10
M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any) -> M:
    """Validate `data` as `model`, or raise InvalidPayload / PayloadTooLarge naming each bad field."""
    if not isinstance(data, dict):
        raise InvalidPayload("The payload must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error_from_validation(exc) from None


def error_from_validation(exc: ValidationError) -> InvalidPayload | PayloadTooLarge:
    return error_from_details(exc.errors(include_url=False))


def _is_member_label(part: Any) -> bool:
    return isinstance(part, str) and "[" in part  # literal['asap'], function-after[check(), Window]


def _is_literal_member(part: Any) -> bool:
    return isinstance(part, str) and part.startswith("literal[")


def error_from_details(errors: list[dict], *, drop_location: int = 0) -> InvalidPayload | PayloadTooLarge:
    """Name each bad field (its location less `drop_location` leading parts); all of them too
    long makes it PAYLOAD_TOO_LARGE."""
    fields: dict[str, str] = {}
    types = set()
    # A value that fits none of a union's members fails each: the wire names the field, not
    # pydantic's label of a member ("literal['asap']"), and the error of a literal member (the
    # shorthand) comes after the others, which say more.
    errors = sorted(errors[:MAX_ERROR_FIELDS], key=lambda error: any(_is_literal_member(p) for p in error["loc"]))
    for error in errors:  # an error ack stays small whatever came in
        parts = [str(part) for part in error.get("loc", ())[drop_location:] if not _is_member_label(part)]
        location = ".".join(parts)[:100] or "payload"
        fields.setdefault(location, str(error.get("msg", "")).removeprefix("Value error, ")[:200])
        types.add(error.get("type"))
    if types and types <= _TOO_LARGE:
        return PayloadTooLarge("A field is longer than allowed.", fields=fields)
    return InvalidPayload("Some fields are missing or not valid.", fields=fields)


class AgentLogin(WireModel):
    username: Annotated[str, StringConstraints(min_length=1, max_length=150)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class AgentState(WireModel):
    state: Literal["ready", "notReady"]


class ConversationRef(WireModel):
    """acceptConversation, rejectConversation, leaveConversation"""

    conversation_id: Id


class TransferConversation(WireModel):
    conversation_id: Id
    queue: Short | None = None
    agent_id: int | None = None

    @model_validator(mode="after")
    def one_target(self) -> "TransferConversation":
        if (self.queue is None) == (self.agent_id is None):
            raise ValueError("give either queue or agentId")
        return self


class AddAgent(WireModel):
    conversation_id: Id
    agent_id: int


class Empty(WireModel):
    pass
