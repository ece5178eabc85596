"""Reading back the PDFs the server writes, as a person (text) and a PDF viewer (links) would."""

from io import BytesIO

from pypdf import PdfReader


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def pdf_links(pdf: bytes) -> list[str]:
    """The URI of every link annotation, in page order."""
    links = []
    for page in PdfReader(BytesIO(pdf)).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            if "/URI" in action:
                links.append(str(action["/URI"]))
    return links
