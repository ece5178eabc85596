from django.apps import AppConfig


class CallbacksConfig(AppConfig):
    name = "callbacks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from callbacks import routing, socket_shapes
        from chatserver import dispatch

        socket_shapes.register()  # its /agent events in the AsyncAPI document

        # A freed slot in a queue (a chat or a callback ended, an agent got ready) may take a
        # due callback; offered after the waiting chats of that queue.
        dispatch.on_queues_freed(routing.route_due)
