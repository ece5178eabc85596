from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms import ModelForm

from chatserver.ids import new_secret_id
from widget import identity, origins
from widget.models import Attachment, Site


class SiteForm(ModelForm):
    class Meta:
        model = Site
        fields = ["name", "origin", "is_active", "require_identity"]

    def clean_origin(self):
        value = origins.normalise(self.cleaned_data["origin"])
        scheme, _, rest = value.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest or "?" in rest or "#" in rest:
            raise ValidationError("An origin is a scheme and a host (and a port), such as https://shop.example.com.")
        return value


def _show_secret_once(request, site: Site) -> None:
    secret = identity.site_secret(site)
    site.secret_fingerprint = identity.fingerprint(secret)
    site.save(update_fields=["secret_fingerprint"])
    messages.warning(
        request,
        f"Identity secret of {site.name}: {secret} (copy it to the site's back end now: it is not shown again).",
    )


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    form = SiteForm
    list_display = ["name", "origin", "is_active", "require_identity", "secret_fingerprint", "created_at"]
    readonly_fields = ["secret_fingerprint", "created_at"]
    actions = ["regenerate_secret"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        origins.forget_site_origins()
        if not change:
            _show_secret_once(request, obj)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        origins.forget_site_origins()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        origins.forget_site_origins()

    @admin.action(description="Regenerate the identity secret (the old one stops working)")
    def regenerate_secret(self, request, queryset):
        for site in queryset:
            site.secret_salt = new_secret_id()
            site.save(update_fields=["secret_salt"])
            _show_secret_once(request, site)


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["name", "content_type", "size", "conversation", "created_at"]
    readonly_fields = ["key", "conversation", "uploaded_by", "name", "content_type", "size", "file", "thumbnail"]

    def has_add_permission(self, request):
        return False
