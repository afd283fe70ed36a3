"""`pingantong loaddemo`: load the demonstration district (三元区) into this database, once.

`pingantong run` does this by itself on an empty database unless PINGANTONG_DEMO=0. The command
refuses a database that already holds clients that are not demo data: fictitious people must never
mix with real ones.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from pingantong.demo.loading import DEFAULT_CLIENTS, DEFAULT_SEED, is_loaded, load_demo


class Command(BaseCommand):
    help = "Load the demonstration district: fictitious clients, contacts, devices and staff logins."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS, help="number of clients (300)")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the same seed, the same district")
        parser.add_argument("--password", default=None, help="the demo logins' password (default: random)")

    def handle(self, *args, **opts):
        if not 1 <= opts["clients"] <= 500:
            raise CommandError(
                "--clients must be between 1 and 500 (the ID sequence has 500 numbers per day)"
            )
        if is_loaded():
            self.stdout.write("demo data is already loaded; nothing to do")
            return
        from pingantong.clients.models import Client

        if Client.objects.exists():
            raise CommandError(
                "this database already holds clients: the demo loads only into a database without clients"
            )
        load_demo(self.stdout, clients=opts["clients"], seed=opts["seed"], password=opts["password"])
