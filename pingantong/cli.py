"""The `pingantong` console script: Django's management commands under one name.

`pingantong run`, `decode`, `simulate` and `bench` are management commands of the project's apps,
so `pingantong migrate`, `pingantong createsuperuser` and the rest work the same way.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingantong.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["pingantong", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    main()
