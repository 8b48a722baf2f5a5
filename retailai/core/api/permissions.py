"""DRF permission classes built on roles."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from retailai.core.choices import Role
from retailai.core.roles import has_role, is_internal


class IsInternal(BasePermission):
    """Staff, buyers and marketers."""

    message = "This endpoint is for the retailer's own staff, buyers and marketers."

    def has_permission(self, request, view):
        return is_internal(request.user)


class IsStaffRole(BasePermission):
    """The Staff role only."""

    message = "This endpoint is for Staff only."

    def has_permission(self, request, view):
        return has_role(request.user, Role.STAFF)


class ReadAnyRoleWriteStaff(BasePermission):
    """Anyone with a role reads; only Staff writes."""

    message = "Only Staff may change this."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return has_role(request.user, *Role.values)
        return has_role(request.user, Role.STAFF)
