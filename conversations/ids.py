"""Ids that grant access: 128 random bits from the OS, as 32 hex characters."""

import secrets


def new_secret_id() -> str:
    return secrets.token_hex(16)
