from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from chatserver import worker
        from connectors import inbound, outbound, registry, socket_shapes
        from connectors.twilio.transport import twilio_connector

        socket_shapes.register()  # its events in the AsyncAPI document
        # Outbound messages are stored first, then delivered by the worker (docs/connectors.md).
        worker.register(outbound.OUTBOUND_JOB, outbound.run_pending)
        # Conversations of SMS-like channels whose customer went quiet are ended by the server.
        worker.register(inbound.IDLE_JOB, inbound.end_idle_conversations)
        registry.register_built_in("sms", twilio_connector)
