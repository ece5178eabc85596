from django.apps import AppConfig


class ChatServerConfig(AppConfig):
    name = "chatserver"
    verbose_name = "Chat server"
