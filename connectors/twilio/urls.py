from django.urls import path

from connectors.twilio import webhooks

urlpatterns = [
    path("sms/inbound", webhooks.sms_inbound, name="twilio-sms-inbound"),
    path("sms/status", webhooks.sms_status, name="twilio-sms-status"),
]
