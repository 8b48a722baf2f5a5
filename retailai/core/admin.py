"""Admin of the core app: job runs and audit events are read-only records."""

import json

from django.contrib import admin
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent, JobRun

admin.site.site_header = _("RetailAI back office")
admin.site.site_title = _("RetailAI back office")
admin.site.index_title = _("Administration")


class ReadOnlyAdminMixin:
    """Rows written by services only: the admin may look, never add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def json_block(value):
    """Pretty-printed JSON in a <pre>, or a dash when empty."""
    if value in (None, {}, []):
        return "—"
    return format_html('<pre class="json">{}</pre>', json.dumps(value, indent=2, sort_keys=True, default=str))


class JobKindFilter(admin.SimpleListFilter):
    """The kinds of job that have run, taken from the table rather than a fixed list."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        kinds = JobRun.objects.order_by("kind").values_list("kind", flat=True).distinct()
        return [(k, k) for k in kinds]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(kind=self.value())
        return queryset


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("run_label", "status_badge", "progress_bar", "short_message", "created", "run_time")
    list_filter = ("status", JobKindFilter)
    list_select_related = ("created_by",)
    search_fields = ("kind", "message", "task_id", "error")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("kind", "status_badge", "progress_bar", "message", "created_by", "task_id")}),
        (_("Timing"), {"fields": ("created_at", "started_at", "finished_at", "run_time")}),
        (_("Details"), {"fields": ("parameters_pretty", "metrics_pretty", "error")}),
    )
    readonly_fields = (
        "kind",
        "status_badge",
        "progress_bar",
        "message",
        "created_by",
        "task_id",
        "created_at",
        "started_at",
        "finished_at",
        "run_time",
        "parameters_pretty",
        "metrics_pretty",
        "error",
    )

    @admin.display(description=_("job"), ordering="kind")
    def run_label(self, obj):
        return f"{obj.kind} #{obj.pk}"

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return format_html('<span class="badge badge-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description=_("progress"), ordering="progress")
    def progress_bar(self, obj):
        return format_html(
            '<span class="progress" role="progressbar" aria-valuenow="{0}" aria-valuemin="0" aria-valuemax="100">'
            '<span class="progress-fill progress-{1}" style="width: {0}%"></span></span>'
            '<span class="progress-label">{0}%</span>',
            int(obj.progress),
            obj.status,
        )

    @admin.display(description=_("created at"), ordering="created_at")
    def created(self, obj):
        return date_format(localtime(obj.created_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("message"))
    def short_message(self, obj):
        text = obj.error or obj.message
        return Truncator(text).chars(60) if text else "—"

    @admin.display(description=_("run time"))
    def run_time(self, obj):
        duration = obj.duration
        if duration is None:
            return "—"
        seconds = int(duration.total_seconds())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"

    @admin.display(description=_("parameters"))
    def parameters_pretty(self, obj):
        return json_block(obj.parameters)

    @admin.display(description=_("metrics"))
    def metrics_pretty(self, obj):
        return json_block(obj.metrics)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "actor", "verb", "content_type", "object_repr")
    list_filter = ("verb", "content_type")
    list_select_related = ("actor", "content_type")
    search_fields = ("verb", "object_repr", "object_id", "actor__username")
    date_hierarchy = "at"
    fields = ("at", "actor", "verb", "content_type", "object_id", "object_repr", "before_pretty", "after_pretty")
    readonly_fields = fields

    @admin.display(description=_("before"))
    def before_pretty(self, obj):
        return json_block(obj.before)

    @admin.display(description=_("after"))
    def after_pretty(self, obj):
        return json_block(obj.after)
