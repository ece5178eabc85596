"""The sites that may embed the widget, and the files visitors and agents attach."""

from django.db import models

from chatserver.ids import new_secret_id
from conversations.models import Conversation, Participant


class Site(models.Model):
    """A website allowed to embed the widget (its origin passes CORS and Socket.IO's origin
    check). Its identity secret is never stored: it is derived from SECRET_KEY and `secret_salt`
    (see widget/identity.py), shown once when the site is created, and known here by a fingerprint."""

    name = models.CharField(max_length=100)
    origin = models.CharField(
        max_length=200, unique=True, help_text="Scheme, host and port only, e.g. https://shop.example.com"
    )
    is_active = models.BooleanField(default=True)
    require_identity = models.BooleanField(
        default=False,
        help_text="Refuse (401) an init that names a visitor (email or refId) without a valid identityHash.",
    )
    secret_salt = models.CharField(max_length=64, default=new_secret_id, editable=False)
    secret_fingerprint = models.CharField(max_length=16, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.origin})"


def _upload_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{instance.key[:2]}/{instance.key}/{filename}"


class Attachment(models.Model):
    """An uploaded file, reachable only through its unguessable key (widget/views.py serves it
    as a download, never as active content)."""

    key = models.CharField(max_length=32, unique=True, default=new_secret_id, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="uploads")
    uploaded_by = models.ForeignKey(Participant, null=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    file = models.FileField(upload_to=_upload_path, max_length=300)
    thumbnail = models.FileField(upload_to=_upload_path, max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
