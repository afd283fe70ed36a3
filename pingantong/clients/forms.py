"""Forms of the clients app. They only shape input; the actions validate the ID number, duplicates and
eligibility, and their ValidationErrors are put back on the form fields (see views.apply_errors)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.regions.models import Region, RegionLevel

from .choices import (
    Category,
    ConsentMethod,
    ConsentPurpose,
    FrequencyKind,
    PayingScheme,
    TerminationReason,
)
from .models import Client, Contact

CLIENT_FORM_FIELDS = [
    "name",
    "household_region_code",
    "region",
    "address",
    "home_lat",
    "home_lon",
    "home_location_source",
    "phone",
    "phone2",
    "dialect",
    "living_situation",
    "categories",
    "risk_tier",
    "ability_grade",
    "medical_notes",
    "allergies",
    "key_holder",
    "access_notes",
    "paying_scheme",
    "monthly_price",
    "quiet_hours_start",
    "quiet_hours_end",
    "notes",
]


class ClientForm(forms.ModelForm):
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=18,
        min_length=15,
        widget=forms.TextInput(
            attrs={
                "hx-post": "",
                "hx-trigger": "change, keyup changed delay:500ms",
                "hx-target": "#id_number-check",
                "hx-swap": "innerHTML",
                "autocomplete": "off",
            }
        ),
    )
    categories = forms.MultipleChoiceField(
        label=_("categories"), choices=Category.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Client
        fields = CLIENT_FORM_FIELDS
        widgets = {
            "home_location_source": forms.HiddenInput(),
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}),
            "medical_notes": forms.Textarea(attrs={"rows": 2}),
            "access_notes": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, regions=None, validate_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        village_field = self.fields["region"]
        assert isinstance(village_field, forms.ModelChoiceField)
        village_field.queryset = (
            regions if regions is not None else Region.objects.filter(level=RegionLevel.VILLAGE)
        )
        self.fields["id_number"].widget.attrs["hx-post"] = validate_url
        self.fields["home_location_source"].required = False
        if self.instance.pk:
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = _(
                "Leave empty to keep the registered number (%(masked)s)."
            ) % {"masked": self.instance.id_number_masked}

    def action_values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("id_number", None)
        data["region_id"] = data.pop("region").pk
        if not data.get("home_location_source"):
            data.pop("home_location_source", None)
        return data


class ApplicationForm(ClientForm):
    statement = forms.CharField(
        label=_("circumstances"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    requested_scheme = forms.ChoiceField(label=_("requested scheme"), choices=PayingScheme.choices)

    class Meta(ClientForm.Meta):
        fields = [
            f
            for f in CLIENT_FORM_FIELDS
            if f not in {"paying_scheme", "monthly_price", "risk_tier", "ability_grade"}
        ]

    def action_values(self) -> dict:
        data = super().action_values()
        data.pop("statement", None)
        data.pop("requested_scheme", None)
        return data


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "name",
            "relation",
            "phone",
            "phone2",
            "priority",
            "available_from",
            "available_until",
            "availability_notes",
            "preferred_channel",
            "wechat_id",
            "is_street_designated",
            "lives_nearby",
            "has_key",
        ]
        widgets = {
            "available_from": forms.TimeInput(attrs={"type": "time"}),
            "available_until": forms.TimeInput(attrs={"type": "time"}),
        }


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("purpose"), choices=ConsentPurpose.choices)
    granted = forms.TypedChoiceField(
        label=_("decision"),
        choices=[("1", pgettext_lazy("consent", "Grant")), ("0", _("Withdraw"))],
        coerce=lambda v: v == "1",
    )
    method = forms.ChoiceField(label=_("method"), choices=ConsentMethod.choices)
    given_by = forms.CharField(label=_("given by (guardian)"), required=False, max_length=50)
    notes = forms.CharField(label=_("notes"), required=False, max_length=200)


class FrequencyRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=FrequencyKind.choices)
    interval_days = forms.IntegerField(label=_("every (days)"), min_value=1, max_value=365)
    reason = forms.CharField(label=_("reason"), required=False, max_length=200)
    requested_via = forms.CharField(label=_("requested via"), required=False, max_length=50)


class TerminationForm(forms.Form):
    reason = forms.ChoiceField(label=_("reason"), choices=TerminationReason.choices)
    effective_date = forms.DateField(
        label=_("effective from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    details = forms.CharField(label=_("details"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AgreementForm(forms.Form):
    extended = forms.MultipleChoiceField(
        label=_("extended items"), required=False, widget=forms.CheckboxSelectMultiple, choices=[]
    )
    starts_on = forms.DateField(label=_("starts on"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, extended_items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["extended"].choices = [
            (i.code, f"{i.code} {i.name} ({i.monthly_price} 元/月)") for i in extended_items
        ]


class SignForm(forms.Form):
    signed_by = forms.CharField(label=_("signed by"), max_length=50)
    signer_relation = forms.CharField(label=_("relation to the client"), max_length=20, initial="本人")
    signed_on = forms.DateField(label=_("signed on"), widget=forms.DateInput(attrs={"type": "date"}))


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("note / reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RosterUploadForm(forms.Form):
    file = forms.FileField(label=_("roster (.xlsx)"))
