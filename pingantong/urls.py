"""Root URL configuration. Every app mounts its pages at /<app>/ and its API under /api/v1/."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from pingantong.core import views as core_views

APPS_WITH_PAGES = [
    "regions",
    "accounts",
    "clients",
    "devices",
    "inventory",
    "gateway",
    "notifications",
    "alarms",
    "care",
    "reports",
    "sync",
]

api_patterns: list = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
for app in APPS_WITH_PAGES:
    api_patterns.append(path("", include(f"pingantong.{app}.api.urls")))

urlpatterns = [
    path("", core_views.home, name="home"),
    path("", include("pingantong.core.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_patterns)),
]
urlpatterns += [path(f"{app}/", include(f"pingantong.{app}.urls")) for app in APPS_WITH_PAGES]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
