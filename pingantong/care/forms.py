"""Forms of the care pages: the call script's structured notes, visit check-in and completion."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import CallResult, CounsellingMode, HealthStatus, Mood, Need, ReferralKind, TaskOutcome
from .models import DEFAULT_CHECKLIST, PartnerOrganisation


class CareCallForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=CallResult.choices)
    mood = forms.ChoiceField(label=_("Mood"), choices=[("", "—"), *Mood.choices], required=False)
    health = forms.ChoiceField(label=_("Health"), choices=[("", "—"), *HealthStatus.choices], required=False)
    needs = forms.MultipleChoiceField(
        label=_("Needs"), choices=Need.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    concerns = forms.CharField(label=_("Concerns"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CompleteTaskForm(forms.Form):
    outcome = forms.ChoiceField(label=pgettext_lazy("care outcome", "Outcome"), choices=TaskOutcome.choices)
    summary = forms.CharField(
        label=pgettext_lazy("written summary", "Summary"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EscalateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class CheckInForm(forms.Form):
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    accuracy = forms.FloatField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason (when not at the home or without location)"), required=False, max_length=200
    )


class CompleteVisitForm(forms.Form):
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    needs = forms.MultipleChoiceField(
        label=_("Needs"), choices=Need.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    client_confirmed = forms.BooleanField(label=_("The client confirms the visit"), required=False)
    client_confirmation = forms.CharField(
        label=_("How (signature, spoken, thumbprint)"), required=False, max_length=100
    )
    photo = forms.FileField(label=_("Photo"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in DEFAULT_CHECKLIST:
            self.fields[f"check_{key}"] = forms.BooleanField(label=label, required=False)

    def checklist(self) -> dict[str, bool]:
        return {key: bool(self.cleaned_data.get(f"check_{key}")) for key, _label in DEFAULT_CHECKLIST}


class CounsellingForm(forms.Form):
    mode = forms.ChoiceField(label=_("Mode"), choices=CounsellingMode.choices)
    topics = forms.CharField(label=_("Topics"), required=False, max_length=200)
    summary = forms.CharField(
        label=pgettext_lazy("written summary", "Summary"), widget=forms.Textarea(attrs={"rows": 3})
    )
    needs_intervention = forms.BooleanField(
        label=_("Needs intervention (refer to the social-work station)"), required=False
    )
    intervention_reason = forms.CharField(
        label=_("Why intervention is needed"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReferralForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ReferralKind.choices)
    partner: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Partner organisation"), queryset=PartnerOrganisation.objects.none(), required=False
    )
    service = forms.CharField(label=_("Service"), required=False, max_length=100)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, partners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners  # type: ignore[attr-defined]
