"""REST endpoints for agent clients: /api/agent/login and /logout."""

from django.http import HttpRequest
from ninja import Router, Schema

from agents import auth
from chatserver.api import ErrorOut
from conversations import wire
from conversations.schemas import AgentLogin

router = Router(tags=["agent"])


class AgentOut(Schema):
    id: int
    name: str
    username: str
    state: str
    maxChats: int


class LoginOut(Schema):
    token: str
    expiresAt: str
    agent: AgentOut


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""


@router.post("/login", response={200: LoginOut, 400: ErrorOut, 401: ErrorOut, 413: ErrorOut, 429: ErrorOut})
def agent_login(request: HttpRequest, payload: AgentLogin):
    """Exchange an agent's username and password for a bearer token (auth of the /agent namespace)."""
    token, issued = auth.agent_login(
        username=payload.username, password=payload.password, client_ip=request.META.get("REMOTE_ADDR", "")
    )
    return {"token": token, "expiresAt": wire.iso(issued.expires_at), "agent": wire.agent_json(issued.agent)}


@router.post("/logout", response={204: None, 401: ErrorOut})
def agent_logout(request: HttpRequest):
    """Revoke the bearer token sent in the Authorization header."""
    token = _bearer(request)
    auth.agent_for_token(token)
    auth.token_revoke(token)
    return 204, None
