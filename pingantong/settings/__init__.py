"""Settings: base (shared), local (development, the default), test, production.

Pick one with DJANGO_SETTINGS_MODULE; `pingantong` defaults to `pingantong.settings.local`.
"""
