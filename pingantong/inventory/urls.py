"""Web pages of the inventory app (mounted at /inventory/)."""

from django.urls import path

from .views import devices, install, stock

app_name = "inventory"
urlpatterns = [
    path("install/", install.install_list, name="install-list"),
    path("install/start/<int:client_pk>/", install.install_start, name="install-start"),
    path("install/<int:pk>/", install.install_page, name="install-page"),
    path("install/<int:pk>/activation/<int:line_pk>/", install.activation_status, name="install-activation"),
    path("stock/", stock.StockListView.as_view(), name="stock-list"),
    path("stock/receive/", stock.stock_receive, name="stock-receive"),
    path("stock/<int:pk>/", stock.stock_detail, name="stock-detail"),
    path("stock/<int:pk>/transition/", stock.stock_transition, name="stock-transition"),
    path("health/", devices.health_screen, name="health"),
    path("devices/<int:pk>/", devices.device_page, name="device"),
    path("devices/<int:pk>/configure/", devices.device_configure, name="device-configure"),
    path("devices/<int:pk>/commands/", devices.device_commands, name="device-commands"),
    path("devices/<int:pk>/test-call/", devices.device_test_call, name="device-test-call"),
    path("clients/<int:pk>/", devices.client_devices, name="client-devices"),
]
