"""Web pages of the accounts app (mounted at /accounts/)."""

from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("me/", views.my_account, name="me"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("staff/", views.StaffRolesView.as_view(), name="staff-roles"),
    path("staff/<int:pk>/revoke/", views.revoke_role, name="revoke-role"),
    path("shifts/", views.ShiftListView.as_view(), name="shift-list"),
]
