"""docs/ describes the protocol as built."""

from pathlib import Path

from chatserver.errors import ALL_ERRORS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_error_code_is_documented_with_its_http_status():
    table = (DOCS / "errors.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in table.splitlines() if line.startswith("| `")}
    for error in ALL_ERRORS:
        assert error.code in rows, f"{error.code} is missing from docs/errors.md"
        assert f"| {error.http_status} |" in rows[error.code], f"{error.code}: the status is not {error.http_status}"
