from django.urls import include, path

from connectors import media

urlpatterns = [
    path("twilio/", include("connectors.twilio.urls")),
    path("media/<str:token>", media.serve, name="connector-media"),
]
