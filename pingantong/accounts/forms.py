"""Forms of the accounts pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pingantong.regions.models import Region

from .choices import Role
from .models import User


class GrantRoleForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=())
    region = forms.CharField(label=_("Region code"), max_length=12, min_length=12)

    def __init__(self, *args, grantable: frozenset[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(value, label) for value, label in Role.choices if value in grantable]
        self.fields["role"].choices = choices  # type: ignore[attr-defined]

    def clean_username(self) -> User:
        name = self.cleaned_data["username"].strip()
        try:
            return User.objects.get(username=name)
        except User.DoesNotExist:
            raise forms.ValidationError(_("No user with this username.")) from None

    def clean_region(self) -> Region:
        code = self.cleaned_data["region"].strip()
        try:
            return Region.objects.get(pk=code)
        except Region.DoesNotExist:
            raise forms.ValidationError(_("No region with this division code.")) from None


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "email", "phone"]
