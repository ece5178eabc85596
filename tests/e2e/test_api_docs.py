"""The OpenAPI document's examples work when tried, and its field titles are the wire names."""

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def init_body_schema(openapi: dict) -> dict:
    body = openapi["paths"]["/api/customer/init"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return openapi["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]


async def test_the_documented_init_example_is_accepted_by_the_server(server):
    async with httpx.AsyncClient(base_url=server.url) as http:
        openapi = (await http.get("/api/openapi.json")).json()
        examples = init_body_schema(openapi)["examples"]
        responses = [await http.post("/api/customer/init", json=example) for example in examples]

    assert examples
    for response in responses:
        assert response.status_code == 200, response.text
        assert len(response.json()["conversationId"]) == 32


async def test_field_titles_are_the_wire_names(server):
    async with httpx.AsyncClient(base_url=server.url) as http:
        schema = init_body_schema((await http.get("/api/openapi.json")).json())

    titles = {name: field["title"] for name, field in schema["properties"].items()}
    assert titles["firstName"] == "firstName" and titles["refId"] == "refId" and titles["requestId"] == "requestId"
    assert all(title == name for name, title in titles.items())
