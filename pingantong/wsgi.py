"""WSGI entry point (for tools that need it; the platform itself runs on ASGI)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingantong.settings.local")
application = get_wsgi_application()
