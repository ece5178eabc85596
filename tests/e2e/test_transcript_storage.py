"""A transcript PDF is rendered once and then served from storage (it cannot change)."""

import asyncio
from pathlib import Path

import httpx
import pytest

from chatserver.ids import digest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


async def test_the_pdf_of_an_ended_conversation_is_kept_and_served_from_storage(server, server_env, customer, agent):
    assert (await customer.say("Keep this"))["ok"]
    assert (await customer.end())["ok"]
    url = f"/api/customer/transcript/{customer.conversation_id}/pdf"
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        first, second = await asyncio.gather(http.get(url), http.get(url))
        third = await http.get(url)
    assert first.status_code == second.status_code == third.status_code == 200
    assert first.content.startswith(b"%PDF") and first.content == second.content == third.content
    kept = list(
        (Path(server_env["CHAT_VAR_DIR"]) / "media" / "transcripts").glob(f"{digest(customer.conversation_id)}*")
    )
    assert [p.name for p in kept] == [f"{digest(customer.conversation_id)}.pdf"]  # stored once
    assert kept[0].read_bytes() == first.content
    # Served from storage: what is kept is what comes back, even if it were changed there.
    kept[0].write_bytes(first.content + b"%kept")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        assert (await http.get(url)).content.endswith(b"%kept")
