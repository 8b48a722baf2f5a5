"""Pages and endpoints of the core app: health, home."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .choices import Role
from .health import health_report
from .models import JobRun
from .roles import is_internal, user_roles


@never_cache
@require_GET
def healthz(request):
    """Database, broker and worker reachability; 503 when the app cannot serve."""
    report = health_report()
    return JsonResponse(report, status=503 if report["status"] == "down" else 200)


# What each role does here, shown on the home page so people know what to expect of their account.
ROLE_SUMMARIES = {
    Role.STAFF: _("Run the back office: manage reference data, stock corrections and partner access in the admin."),
    Role.BUYER: _("Watch stock and order history; forecasts and replenishment proposals appear here."),
    Role.MARKETER: _("Read the order history; customer segments, recommendations and campaigns appear here."),
    Role.PARTNER: _("Your organisation works with RetailAI through the API with its own token."),
}


@login_required
def home(request):
    """A role-aware landing page: what this user can open, the headline numbers, the latest jobs."""
    from retailai.core.home import home_panels

    roles = sorted(user_roles(request.user))
    context = {
        "roles": roles,
        "role_cards": [
            {"name": Role(r).label, "summary": ROLE_SUMMARIES.get(r, "")} for r in roles if r in Role.values
        ],
        "panels": home_panels(request.user),
        "recent_runs": JobRun.objects.select_related("created_by")[:8] if is_internal(request.user) else [],
    }
    return render(request, "core/home.html", context)
