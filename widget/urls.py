from django.urls import path

from widget import views

urlpatterns = [
    path("widget.js", views.loader_js, name="widget-loader"),
    path("widget/panel.js", views.panel_js, name="widget-panel"),
    path("widget/files/<str:key>/<str:kind>", views.attachment_file, name="widget-file"),
    path("demo/", views.demo, name="widget-demo"),
    path("agent/attachments", views.agent_attachment, name="agent-attachment"),
]
