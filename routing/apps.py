from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from chatserver import dispatch
        from routing import offers

        # Whatever frees a slot in a queue (a chat ended, an agent left or got ready) says so;
        # the waiting conversations of those queues are offered once, after it committed.
        dispatch.on_queues_freed(offers.route_waiting)
