"""A machine without WeasyPrint or Pango: the server starts and serves everything but PDFs,
which are a clear 503; an emailed transcript still goes (without its PDF), to var/outbox/
when no SMTP server is set. The import is made to fail by a sitecustomize on PYTHONPATH, as a
missing libpango makes it fail (OSError), without touching the code under test."""

import asyncio
import email
import os
import textwrap
import time

import httpx
import pytest
from asgiref.sync import sync_to_async

from tests.conftest import start_server, stop_server
from tests.factories import end, send, start_conversation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SITECUSTOMIZE = textwrap.dedent(
    """
    import sys

    class NoPango:
        def find_spec(self, name, path=None, target=None):
            if name == "weasyprint" or name.startswith("weasyprint."):
                raise OSError("cannot load library 'libpango-1.0-0': No such file (test)")
            return None

    sys.meta_path.insert(0, NoPango())
    """
)


@pytest.fixture(scope="module")
def server_without_pdfs(server, server_env, tmp_path_factory):
    """The session's server is stopped meanwhile: its worker shares the database and would
    send the email itself, through SMTP."""
    stop_server(server)
    site = tmp_path_factory.mktemp("no-weasyprint")
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    var = tmp_path_factory.mktemp("no-weasyprint-var")
    env = {k: v for k, v in server_env.items() if k not in ("EMAIL_HOST", "EMAIL_PORT")}
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")])), CHAT_VAR_DIR=str(var))
    running = start_server(env=env, log_path=var / "server.log")
    running.var = var
    yield running
    stop_server(running)
    server.restart()


def eml_files(outbox, timeout: float = 20) -> list:
    """The mails written to `outbox`, once there is one."""
    deadline = time.monotonic() + timeout
    while not (files := list(outbox.glob("*.eml"))) and time.monotonic() < deadline:
        time.sleep(0.1)
    return files


def ended_conversation():
    customer = start_conversation()
    send(customer, "Where is my parcel?")
    return end(customer.conversation, by=customer)


async def test_without_weasyprint_the_server_runs_and_only_the_pdf_is_refused(server_without_pdfs):
    conversation = await sync_to_async(ended_conversation)()
    base = server_without_pdfs.url
    async with httpx.AsyncClient(base_url=base) as http:
        pdf = await http.get(f"/api/customer/transcript/{conversation.id}/pdf")
        started = await http.post("/api/customer/init", json={"firstName": "Ada", "channel": "web"})
        landing = await http.get("/")
        mailed = await http.get(f"/api/customer/transcript/{conversation.id}/email")

    assert pdf.status_code == 503
    assert pdf.json()["error"]["code"] == "PDF_UNAVAILABLE"
    assert "Pango" in pdf.json()["error"]["message"]
    assert started.status_code == 200 and landing.status_code == 200
    assert mailed.status_code == 202  # sent by the background worker
    files = await asyncio.to_thread(eml_files, server_without_pdfs.var / "outbox")
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes())
    assert message["To"] == "ada@example.com"
    assert [part.get_filename() for part in message.walk() if part.get_filename()] == []  # no PDF
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain").get_payload(decode=True)
    assert b"Where is my parcel?" in text and b"attached as a PDF" not in text
    log = server_without_pdfs.log()
    assert "Transcript PDFs are unavailable" in log and "libpango" in log
    mail_lines = [line for line in log.splitlines() if "written to" in line]
    assert len(mail_lines) == 1 and str(files[0]) in mail_lines[0]
    assert "Traceback" not in log
