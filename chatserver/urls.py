from django.contrib import admin
from django.urls import include, path

from agents import desk
from chatserver.api import api

urlpatterns = [
    path("", include("widget.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("connectors/", include("connectors.urls")),
    path("agent/", desk.desk, name="agent-desk"),
    path("agent/login/", desk.login, name="agent-login"),
    path("agent/logout/", desk.logout, name="agent-logout"),
    path("", include("home.urls")),
]
