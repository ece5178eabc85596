"""Business hours in a queue's admin page: opening ranges per weekday and closed dates."""

from django.contrib import admin

from routing.models import ClosedDate, OpeningHours


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0
    fields = ("weekday", "opens", "closes")
    verbose_name = "opening range"
    verbose_name_plural = "Opening hours (in the queue's time zone; none: always open)"


class ClosedDateInline(admin.TabularInline):
    model = ClosedDate
    extra = 0
    fields = ("date", "reason")
    verbose_name_plural = "Closed dates (holidays)"
