from django.apps import AppConfig


class WidgetConfig(AppConfig):
    name = "widget"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Web widget"

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled

        from widget.middleware import cors_for_widget_sites

        check_request_enabled.connect(cors_for_widget_sites, dispatch_uid="widget-sites")
