"""Permissions of the commerce API."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from retailai.commerce.selectors import channel_for_partner
from retailai.core.choices import Role
from retailai.core.roles import has_role, is_internal


class OrderAccess(BasePermission):
    """The retailer's roles read every order and Staff writes; a channel partner reads, posts and cancels
    its own channel's orders (the queryset scopes which)."""

    message = "Orders are for the retailer's Staff, buyers and marketers, and for channel partners."

    def has_permission(self, request, view):
        user = request.user
        if is_internal(user) and (request.method in SAFE_METHODS or has_role(user, Role.STAFF)):
            return True
        return channel_for_partner(user) is not None
