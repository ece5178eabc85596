from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "home"
    verbose_name = "Landing page and first-run set-up"
