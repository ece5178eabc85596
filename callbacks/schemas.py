"""What crosses the wire for callbacks: the visitor's request and the agents' events."""

import zoneinfo
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, StringConstraints, WithJsonSchema, field_validator, model_validator

from callbacks import phones
from conversations.schemas import MOMENT_JSON_SCHEMA, Email, Id, Moment, Short, WireModel, _sane_moment

Note = Annotated[str, StringConstraints(max_length=2000)]


def _known_zone(name: str) -> str:
    if name:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a known IANA time zone (e.g. Europe/Berlin)") from None
    return name


# Rules JSON Schema cannot state, named as formats of their own in the OpenAPI document (and
# generated as such by the REST fuzzer, tests/e2e/test_fuzz_rest.py).
TimeZoneName = Annotated[
    str,
    StringConstraints(max_length=64),
    AfterValidator(_known_zone),
    WithJsonSchema({"type": "string", "maxLength": 64, "format": "iana-time-zone", "examples": ["Europe/Berlin"]}),
]
Phone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32),
    AfterValidator(phones.to_e164),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 32,
            "format": "phone",
            "description": "A number libphonenumber holds valid; without a country code, read in CHAT_PHONE_REGION.",
            "examples": ["+49 30 901820"],
        }
    ),
]


# Both required; in the OpenAPI document an RFC 3339 date-time (so with its offset). Without
# one, the time is read in `timeZone`.
WindowEdge = Annotated[
    datetime,
    AfterValidator(_sane_moment),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": MOMENT_JSON_SCHEMA["anyOf"][0]["pattern"]}),
]


class Window(WireModel):
    """A start/end window in ISO 8601; times without an offset are read in `timeZone`."""

    start: WindowEdge
    end: WindowEdge
    time_zone: TimeZoneName = ""

    @model_validator(mode="after")
    def aware_and_ordered(self) -> "Window":
        zone = zoneinfo.ZoneInfo(self.time_zone) if self.time_zone else None
        for name in ("start", "end"):
            moment: datetime = getattr(self, name)
            if moment.tzinfo is None:
                if zone is None:
                    raise ValueError(f"{name} needs an offset (2026-12-01T10:00:00+01:00) or a timeZone")
                setattr(self, name, moment.replace(tzinfo=zone))
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class CallbackRequest(WireModel):
    """POST /api/customer/callback"""

    first_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    last_name: Short = ""
    phone: Phone
    email: Email = ""
    subject: Short = ""
    language: Annotated[str, StringConstraints(max_length=16)] = ""
    comment: Note = ""
    preferred_time: Literal["asap"] | Window = "asap"
    conversation_id: Id | None = None
    request_id: Annotated[str, StringConstraints(max_length=64)] | None = None

    @field_validator("request_id", mode="after")
    @classmethod
    def blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="before")
    @classmethod
    def asap_spelled_loosely(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("preferredTime") in (None, "", "ASAP"):
            data = {**data, "preferredTime": "asap"}
        return data


class CallbackRef(WireModel):
    """acceptCallback, rejectCallback"""

    callback_id: Id


class CallbackOutcome(WireModel):
    callback_id: Id
    outcome: Literal["completed", "noAnswer", "busy", "wrongNumber", "cancelledByCustomer"]
    note: Note = ""


class ScheduleCallback(WireModel):
    """An agent schedules a callback from a chat: at `at` (ISO 8601) or as soon as possible."""

    conversation_id: Id
    phone: Phone
    at: Moment = None
    time_zone: TimeZoneName = ""
    comment: Note = ""
    first_name: Annotated[str, StringConstraints(max_length=100)] = ""


class MyCallbacks(WireModel):
    pass
