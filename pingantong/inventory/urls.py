"""Web pages of the inventory app (mounted at /inventory/)."""

app_name = "inventory"
urlpatterns: list = []
