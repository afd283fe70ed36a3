"""Web pages of the alarms app (mounted at /alarms/)."""

from django.urls import path

from . import views, views_settings

app_name = "alarms"
urlpatterns = [
    path("", views.QueueView.as_view(), name="queue"),
    path("rows/", views.QueueRowsView.as_view(), name="rows"),
    path("kpis/", views.kpis, name="kpis"),
    path("history/", views.HistoryView.as_view(), name="history"),
    path("settings/", views_settings.centre_settings, name="settings"),
    path("<int:pk>/", views.AlarmDetailView.as_view(), name="detail"),
    path("<int:pk>/timeline/", views.TimelineView.as_view(), name="timeline"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    path("<int:pk>/step/", views.step, name="step"),
    path("<int:pk>/call/", views.call, name="call"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/review/", views.review, name="review"),
]
