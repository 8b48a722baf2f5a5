"""Create the role groups (Buyer, Marketer, Staff, Partner) with their permissions."""

from django.core.management.base import BaseCommand

from retailai.core.roles import roles_sync


class Command(BaseCommand):
    help = "Create or refresh the role groups and their model permissions."

    def handle(self, *args, **options):
        roles_sync()
        self.stdout.write(self.style.SUCCESS("Roles are in place: Buyer, Marketer, Staff, Partner."))
