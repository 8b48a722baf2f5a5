"""Pages and endpoints of the core app: health, home."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import health_report
from .models import JobRun
from .roles import user_roles


@never_cache
@require_GET
def healthz(request):
    """Database, broker and worker reachability; 503 when the app cannot serve."""
    report = health_report()
    return JsonResponse(report, status=503 if report["status"] == "down" else 200)


@login_required
def home(request):
    """A role-aware landing page: what this user can open, the headline numbers, the latest jobs."""
    from retailai.core.home import home_panels

    roles = sorted(user_roles(request.user))
    context = {
        "roles": roles,
        "panels": home_panels(request.user),
        "recent_runs": JobRun.objects.select_related("created_by")[:8] if roles else [],
    }
    return render(request, "core/home.html", context)
