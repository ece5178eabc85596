from django.db import models


class Connector(models.Model):
    """A channel connector (SMS gateway, messenger bridge, ...) known to the server."""

    id = models.SlugField(primary_key=True, max_length=32)
    name = models.CharField(max_length=200)
    channel = models.SlugField(max_length=32)
    key_hash = models.CharField(max_length=64, blank=True, editable=False, help_text="SHA-256 of the API key.")
    connected = models.BooleanField(default=False)
    connected_sockets = models.PositiveIntegerField(default=0)
    last_connected_at = models.DateTimeField(null=True, blank=True)
    last_disconnected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"
