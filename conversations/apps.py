from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from chatserver import worker
        from conversations import abandoned, transcript_emails

        worker.register(transcript_emails.JOB, transcript_emails.send_due)
        worker.register(abandoned.JOB, abandoned.close_abandoned)
