"""Marketer pages: the latest runs and their offline metrics, a customer's list, a product's neighbours."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from retailai.commerce.models import Customer, Product
from retailai.core.choices import Role
from retailai.core.roles import has_role

from . import services
from .models import SimilarKind
from .selectors import active_run, customer_recommendations, latest_runs, purchase_history, similar_products

PAGE_ROLES = (Role.STAFF, Role.MARKETER)


def _require(request, *roles):
    if not has_role(request.user, *roles):
        raise PermissionDenied


@login_required
def run_dashboard(request):
    """The active run's offline metrics, the latest runs, and a search for customers and products."""
    _require(request, *PAGE_ROLES)
    query = request.GET.get("q", "").strip()
    customers: list[Customer] = []
    products: list[Product] = []
    if query:
        customers = list(Customer.objects.filter(external_id__iexact=query)[:1])
        products = list(Product.objects.filter(sku__iexact=query)[:1]) or list(
            Product.objects.filter(name__icontains=query, is_merchandise=True).order_by("sku")[:20]
        )
    return render(
        request,
        "recommendations/run_dashboard.html",
        {
            "run": active_run(),
            "runs": latest_runs(),
            "can_run": has_role(request.user, Role.STAFF),
            "query": query,
            "customers": customers,
            "products": products,
        },
    )


@login_required
@require_POST
def run_now(request):
    """Staff start a retrain-and-score run now; it runs on the workers (or in process)."""
    _require(request, Role.STAFF)
    from .tasks import recommendation_run_task

    run = services.recommendation_run_create(user=request.user)
    transaction.on_commit(lambda: recommendation_run_task.apply_async(args=[run.pk], queue="training"))
    messages.success(request, _("Recommendation run #%(id)s queued.") % {"id": run.pk})
    return redirect("recommendations:run-dashboard")


@login_required
def customer_page(request, external_id: str):
    """What a customer is shown, with the reasons, next to what they bought."""
    _require(request, *PAGE_ROLES)
    customer = get_object_or_404(Customer, external_id=external_id)
    served = customer_recommendations(external_id=customer.external_id, k=20)
    return render(
        request,
        "recommendations/customer.html",
        {"customer": customer, "served": served, "history": purchase_history(customer=customer)},
    )


@login_required
def product_page(request, sku: str):
    """A product's similar items and the items bought in the same basket."""
    _require(request, *PAGE_ROLES)
    product = get_object_or_404(Product, sku=sku)
    return render(
        request,
        "recommendations/product.html",
        {
            "product": product,
            "similar": similar_products(product=product, kind=SimilarKind.SIMILAR, k=10),
            "together": similar_products(product=product, kind=SimilarKind.TOGETHER, k=10),
        },
    )
