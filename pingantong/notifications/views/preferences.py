"""Recipients' preferences: who cannot read (gets a call instead of SMS), quiet hours and the
hourly limit, keyed by phone number so that they hold for clients, contacts and raw numbers."""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from pingantong.core.masking import mask_phone
from pingantong.core.views import RestrictedListView, require_object_access

from ..models import RecipientPreference


class PreferenceListView(RestrictedListView):
    model = RecipientPreference
    template_name = "notifications/preference_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for pref in context["object_list"]:
            pref.recipient_masked = mask_phone(pref.recipient)
        return context


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = RecipientPreference
        fields = ["recipient", "cannot_read", "quiet_start", "quiet_end", "max_per_hour", "region"]
        widgets = {
            "quiet_start": forms.TimeInput(attrs={"type": "time"}),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}),
        }

    def clean_recipient(self) -> str:
        value = self.cleaned_data["recipient"].strip().replace(" ", "")
        if not value.lstrip("+").isdigit():
            raise forms.ValidationError(_("Enter a phone number."))
        return value

    def clean(self):
        data = super().clean()
        if bool(data.get("quiet_start")) != bool(data.get("quiet_end")):
            raise forms.ValidationError(_("Give both the start and the end of the quiet hours, or neither."))
        return data


@login_required
def preference_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    pref = (
        get_object_or_404(RecipientPreference.objects.restrict(request.user, "view"), pk=pk)
        if pk
        else RecipientPreference()
    )
    form = PreferenceForm(request.POST or None, instance=pref)
    if request.method == "POST" and form.is_valid():
        require_object_access(request, "change" if pk else "add", form.instance)
        form.save()
        flash.success(request, _("Saved."))
        return redirect("notifications:preference-list")
    if pk:
        require_object_access(request, "change", pref)
    return render(request, "notifications/preference_form.html", {"form": form, "object": pref})
