from django.contrib import admin
from django.urls import include, path

from conversations import desk
from conversations.api import api
from widget.api import router as widget_router

api.add_router("/customer/", widget_router)

urlpatterns = [
    path("", include("widget.urls")),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("agent/", desk.desk, name="agent-desk"),
    path("agent/login/", desk.login, name="agent-login"),
    path("agent/logout/", desk.logout, name="agent-logout"),
]
