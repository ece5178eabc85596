"""Ids that grant access: 128 random bits from the OS, as 32 hex characters; and how the
secrets that authenticate (agent tokens, connector keys) are stored: their SHA-256 only (they
are 256 random bits, so a slow hash would add nothing)."""

import hashlib
import secrets


def new_secret_id() -> str:
    return secrets.token_hex(16)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
