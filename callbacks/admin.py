"""Callbacks for operators: listed by state, queue and scheduled time, searchable by phone and
name, with their history inline; reschedule and cancel go through the services (so they are in
the history, with the operator's name); a CSV export of a date range."""

import csv
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import admin, messages
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from callbacks import phones, selectors, services
from callbacks.models import Callback, CallbackEvent, CallbackOffer
from chatserver.admin import ReadOnlyAdmin, ReadOnlyInline
from chatserver.errors import ChatError

# The most rows one CSV export holds.
MAX_EXPORTED = 50_000


class CallbackEventInline(ReadOnlyInline):
    model = CallbackEvent
    fields = ("at", "from_state", "to_state", "actor", "agent", "user", "outcome", "note", "detail")
    verbose_name_plural = "History and call attempts"


class CallbackOfferInline(ReadOnlyInline):
    model = CallbackOffer
    fields = ("agent", "state", "created_at", "expires_at", "answered_at")
    classes = ("collapse",)


class RescheduleForm(forms.Form):
    at = forms.SplitDateTimeField(label="Call at", help_text="In the server's time zone; moved to the next opening.")


class ExportForm(forms.Form):
    start = forms.DateField(label="Created from", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="to (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["end"] < cleaned["start"]:
            raise forms.ValidationError("The end is before the start.")
        return cleaned


@admin.register(Callback)
class CallbackAdmin(ReadOnlyAdmin):
    list_display = ("name", "phone", "queue", "state", "scheduled_for", "attempts", "agent", "created_at")
    list_filter = ("state", "queue", "scheduled_for", "adjusted")
    list_select_related = ("queue", "agent__user")
    search_fields = ("phone", "first_name", "last_name", "email")
    date_hierarchy = "scheduled_for"
    inlines = (CallbackEventInline, CallbackOfferInline)
    actions = ("reschedule", "reschedule_now", "cancel")
    change_list_template = "admin/callbacks/callback/change_list.html"
    fields = (
        ("first_name", "last_name"),
        ("phone", "email", "language"),
        "queue",
        "conversation",
        "comment",
        ("window_start", "window_end", "time_zone"),
        ("state", "scheduled_for", "adjusted"),
        ("attempts", "agent", "weight"),
        ("scheduled_by", "client_ip", "request_id"),
        ("created_at", "updated_at"),
    )

    def get_ordering(self, request: HttpRequest):
        """Expired callbacks (their window passed with nobody free) first: they are late, not dropped."""
        return [selectors.lateness().asc(), "scheduled_for"]

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):
        """A phone number is found however it is typed (+49 30 901820, 030 901820)."""
        results, duplicates = super().get_search_results(request, queryset, search_term)
        try:
            number = phones.to_e164(search_term)
        except ValueError:
            return results, duplicates
        return results | queryset.filter(phone=number), duplicates

    def get_urls(self):
        export = path("export/", self.admin_site.admin_view(self.export_view), name="callbacks_callback_export")
        return [export, *super().get_urls()]

    @admin.action(description="Reschedule the selected callbacks…")
    def reschedule(self, request: HttpRequest, queryset):
        form = RescheduleForm(request.POST if "at_0" in request.POST else None)
        if not form.is_valid():
            context = {**self.admin_site.each_context(request), "form": form, "callbacks": queryset, "opts": self.opts}
            return render(request, "admin/callbacks/callback/reschedule.html", context)
        self._each(request, queryset, "rescheduled", services.callback_reschedule, at=form.cleaned_data["at"])
        return None

    @admin.action(description="Reschedule the selected callbacks to now (or the next opening)")
    def reschedule_now(self, request: HttpRequest, queryset):
        self._each(request, queryset, "rescheduled", services.callback_reschedule, at=timezone.now())

    @admin.action(description="Cancel the selected callbacks")
    def cancel(self, request: HttpRequest, queryset):
        self._each(request, queryset, "cancelled", services.callback_cancel)

    def _each(self, request: HttpRequest, queryset, done: str, service, **kwargs) -> None:
        changed, refused = 0, []
        for callback in queryset:
            try:
                service(callback_id=callback.pk, user=request.user, **kwargs)
                changed += 1
            except ChatError as error:
                refused.append(f"{callback}: {error.message}")
            except IntegrityError:
                refused.append(f"{callback}: another callback of this number is open in its queue")
        if changed:
            self.message_user(request, f"{changed} callback(s) {done}.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        form = ExportForm(request.GET or None)
        if not form.is_valid():
            context = {**self.admin_site.each_context(request), "form": form, "opts": self.opts, "title": "Export"}
            return render(request, "admin/callbacks/callback/export.html", context)
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        zone = timezone.get_current_timezone()
        since = datetime.combine(start, time(0), tzinfo=zone)
        until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone)
        rows = (
            Callback.objects.filter(created_at__gte=since, created_at__lt=until)
            .select_related("queue", "agent__user")
            .order_by("created_at")[:MAX_EXPORTED]
        )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="callbacks-{start}-{end}.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for callback in rows:
            writer.writerow([_cell(value) for value in _csv_row(callback)])
        return response


CSV_COLUMNS = [
    "id",
    "created_at",
    "queue",
    "first_name",
    "last_name",
    "phone",
    "email",
    "state",
    "scheduled_for",
    "window_start",
    "window_end",
    "attempts",
    "last_outcome",
    "agent",
    "comment",
]


def _csv_row(callback: Callback) -> list:
    last = callback.events.exclude(outcome="").order_by("-pk").values_list("outcome", flat=True).first()
    return [
        callback.pk,
        callback.created_at.isoformat(),
        callback.queue.name,
        callback.first_name,
        callback.last_name,
        callback.phone,
        callback.email,
        callback.state,
        callback.scheduled_for.isoformat(),
        callback.window_start.isoformat() if callback.window_start else "",
        callback.window_end.isoformat() if callback.window_end else "",
        callback.attempts,
        last or "",
        callback.agent.display_name if callback.agent else "",
        callback.comment,
    ]


def _cell(value) -> str:
    """A spreadsheet must not run what a visitor typed: cells starting like a formula are quoted."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not text[1:2].isdigit() else text
