"""Render time of a transcript PDF (conversations.transcripts.transcript_pdf) for conversations
of N messages, on a scratch SQLite database:

    .venv/bin/python bench/transcript_pdf.py                   # the default sizes below
    .venv/bin/python bench/transcript_pdf.py 500x80 2000x80 500x2000 --language ar
    .venv/bin/python bench/transcript_pdf.py --largest          # the largest conversation accepted

A size is MESSAGESxCHARACTERS (characters of text per message). Messages alternate between
the customer and an agent, every tenth has an attachment, and the text is words of ordinary
length (or Arabic ones with --language ar). Prints, per size, the median of --runs renders:
wall time and CPU time of the whole call (the database read, the template and WeasyPrint), the
pages and the size of the PDF. --largest renders the largest conversations the caps
CHAT_MAX_MESSAGES_PER_CONVERSATION and CHAT_MAX_CONVERSATION_TEXT accept (as set in the
environment), in both shapes: the most messages sharing the text budget, and the budget in
the longest messages (CHAT_MAX_TEXT_LENGTH). --save DIR keeps each PDF there.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
scratch = tempfile.mkdtemp(prefix="transcript-pdf-")
os.environ.update(
    DATABASE_URL=f"sqlite:///{scratch}/transcripts.sqlite3",
    DJANGO_SETTINGS_MODULE="chatserver.settings",
    SECRET_KEY="transcript-pdf",
    CHAT_VAR_DIR=scratch,
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

DEFAULT_SIZES = ["100x80", "500x80", "2000x80", "100x2000", "500x2000"]
WORDS = {
    "en": [
        "the",
        "order",
        "arrived",
        "yesterday",
        "but",
        "one",
        "of",
        "the",
        "parcels",
        "was",
        "missing",
        "so",
        "could",
        "you",
        "please",
        "check",
        "it",
    ],
    "ar": [
        "وصل",
        "الطلب",
        "أمس",
        "لكن",
        "أحد",
        "الطرود",
        "كان",
        "مفقودا",
        "فهل",
        "يمكنكم",
        "التحقق",
        "من",
        "ذلك",
        "من",
        "فضلكم",
        "شكرا",
    ],
}


def text_of(characters: int, language: str, n: int) -> str:
    words, text = WORDS[language], []
    length, i = 0, n
    while length < characters:
        word = words[i % len(words)]
        text.append(word)
        length += len(word) + 1
        i += 7
    return " ".join(text)[:characters]


def conversation_of(messages: int, characters: int, language: str, attachments: int = 0):
    """An ended conversation with `messages` chat messages (customer and agent taking turns);
    every tenth has an attachment, or each has `attachments`."""
    from conversations import services
    from conversations.models import Conversation, Message
    from conversations.schemas import InitRequest

    started = services.conversation_start(
        request=InitRequest(
            channel="web", firstName="Ada", lastName="Lovelace", email="ada@example.com", language=language
        )
    )
    customer = started.customer
    agent = services.participant_add(conversation_id=started.conversation.id, role="agent", name="Grace Hopper")
    rows = []
    for n in range(messages):
        sender = customer if n % 2 == 0 else agent
        files = [
            {"type": "image/png", "name": f"photo-{n}-{i}.png", "contentUrl": f"https://cdn.example.com/p/{n}/{i}.png"}
            for i in range(attachments or (1 if n % 10 == 9 else 0))
        ]
        rows.append(
            Message(
                conversation=started.conversation,
                sequence=n + 1,
                type=Message.Type.CHAT,
                sender=sender,
                sender_name=sender.name,
                sender_role=sender.role,
                text=text_of(characters, language, n),
                attachments=files,
            )
        )
    Message.objects.bulk_create(rows, batch_size=500)
    Conversation.objects.filter(pk=started.conversation.pk).update(last_sequence=messages)
    services.conversation_end(conversation_id=started.conversation.id, participant_id=customer.id)
    return Conversation.objects.get(pk=started.conversation.pk)


def measure(label: str, conversation, runs: int, save: Path | None) -> None:
    from pypdf import PdfReader

    from conversations import transcripts

    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        pdf = transcripts.transcript_pdf(conversation)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    if save:
        save.mkdir(parents=True, exist_ok=True)
        (save / f"transcript-{label}.pdf").write_bytes(pdf)
    from io import BytesIO

    pages = len(PdfReader(BytesIO(pdf)).pages)
    print(
        f"{label:>22}: {statistics.median(walls):6.2f} s wall, {statistics.median(cpus):6.2f} s CPU "
        f"(median of {runs}; min {min(walls):.2f} s wall), {pages} pages, {len(pdf) / 1e6:.2f} MB",
        flush=True,
    )


def largest_sizes() -> list[tuple[int, int, int]]:
    """The shapes of the largest conversation the caps accept, as (messages, characters,
    attachments each): as many messages as CHAT_MAX_MESSAGES_PER_CONVERSATION allows sharing
    the CHAT_MAX_CONVERSATION_TEXT budget; the budget in messages of CHAT_MAX_TEXT_LENGTH
    characters; and messages of 80 characters with CHAT_MAX_ATTACHMENTS attachments each (an
    attachment counts as a message, services._size_in_a_transcript)."""
    budget, longest = settings.CHAT_MAX_CONVERSATION_TEXT, settings.CHAT_MAX_TEXT_LENGTH
    most, files = settings.CHAT_MAX_MESSAGES_PER_CONVERSATION, settings.CHAT_MAX_ATTACHMENTS
    return [
        (most, min(longest, budget // most), 0),
        (max(1, min(most, budget // longest)), min(longest, budget), 0),
        (most // (1 + files), 80, files),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", help="MESSAGESxCHARACTERS, e.g. 500x80")
    parser.add_argument("--language", default="en", choices=sorted(WORDS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--largest", action="store_true", help="also the largest conversation the caps accept")
    parser.add_argument("--save", type=Path, help="a directory to keep the PDFs in")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    from conversations import transcripts

    transcripts.transcript_pdf(conversation_of(5, 80, args.language))  # WeasyPrint's import and font set-up
    sizes = [tuple(int(n) for n in size.split("x")) for size in (args.sizes or ([] if args.largest else DEFAULT_SIZES))]
    for messages, characters in sizes:
        label = f"{args.language} {messages}x{characters}"
        measure(label, conversation_of(messages, characters, args.language), args.runs, args.save)
    if args.largest:
        for messages, characters, files in largest_sizes():
            label = f"{args.language} largest {messages}x{characters}" + (f"+{files}" if files else "")
            measure(label, conversation_of(messages, characters, args.language, files), args.runs, args.save)


if __name__ == "__main__":
    main()
