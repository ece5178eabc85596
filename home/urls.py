from django.urls import path

from home import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("setup/", views.setup, name="first-run-setup"),
    path("api/asyncapi.json", views.asyncapi_json, name="asyncapi"),
    path("docs/", views.docs_index, name="docs-index"),
    path("docs/<str:name>", views.docs_file, name="docs-file"),
]
