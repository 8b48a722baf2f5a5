"""Permissions of the inventory API."""

from rest_framework.permissions import BasePermission

from inventory.selectors import supplier_for_partner
from retailai.core.roles import is_internal


class IsInternalOrSupplierPartner(BasePermission):
    """The retailer's own roles, or a partner acting for a supplier (the queryset scopes to its supplier)."""

    message = "This endpoint is for the retailer's own roles and for supplier partners."

    def has_permission(self, request, view):
        return is_internal(request.user) or supplier_for_partner(request.user) is not None


class IsBuyerOrSupplierPartner(BasePermission):
    """Buyers and staff, or a partner acting for a supplier (which sees only its own released orders)."""

    message = "Purchase orders are for buyers, staff and the supplier they are addressed to."

    def has_permission(self, request, view):
        from retailai.core.choices import Role
        from retailai.core.roles import has_role

        return has_role(request.user, Role.STAFF, Role.BUYER) or supplier_for_partner(request.user) is not None
