"""Forms of the field worker's pages (phone-sized, one step each)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import TEACHING_CHECKLIST, Carrier, ConfirmedBy, Mobility

_BOOL = {"class": "form-check-input"}


class HomeTestForm(forms.Form):
    carrier = forms.ChoiceField(label=_("Carrier"), choices=[("", "—"), *Carrier.choices], required=False)
    signal_dbm = forms.IntegerField(
        label=_("Signal measured (dBm)"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    signal_bars = forms.IntegerField(label=_("Signal bars (0-5)"), required=False, min_value=0, max_value=5)
    mobility = forms.ChoiceField(label=_("Mobility"), choices=Mobility.choices)
    hearing_ok = forms.BooleanField(label=_("Hears a phone call"), required=False, initial=True)
    can_press_button = forms.BooleanField(label=_("Can press a button"), required=False, initial=True)
    cognition_ok = forms.BooleanField(label=_("Understands the device"), required=False, initial=True)
    uses_gas = forms.BooleanField(label=_("Cooks with gas"), required=False)
    lives_alone = forms.BooleanField(label=_("Lives alone"), required=False)
    wishes = forms.CharField(
        label=_("The client's wishes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.BooleanField):
                field.widget.attrs.update(_BOOL)
            else:
                field.widget.attrs.setdefault("class", "form-control form-control-lg")


class CheckInForm(forms.Form):
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    accuracy = forms.FloatField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason (if not at the home)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class BindForm(forms.Form):
    item: forms.ModelChoiceField = forms.ModelChoiceField(label=_("Device (serial)"), queryset=None)  # type: ignore[arg-type]

    def __init__(self, *args, items=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = items
        self.fields["item"].widget.attrs["class"] = "form-select form-select-lg"


class CompleteForm(forms.Form):
    taught = forms.MultipleChoiceField(
        label=_("The client was taught"),
        choices=TEACHING_CHECKLIST,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    confirmed_by = forms.ChoiceField(
        label=_("Confirmed by"), choices=ConfirmedBy.choices, widget=forms.RadioSelect
    )
    confirmed_name = forms.CharField(
        label=_("Name of who confirmed"),
        max_length=50,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"})
    )


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("Photo"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )


class ConfigForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            ("locate_now", _("Locate now")),
            ("report_interval", _("Reporting interval")),
            ("sos_numbers", _("SOS numbers")),
            ("clock_zone", _("Clock zone")),
        ]
    )
    seconds = forms.IntegerField(label=_("Interval (s)"), required=False, min_value=10, max_value=86400)
    tz = forms.CharField(label=_("Clock zone"), required=False, initial="+08:00", max_length=8)


class StockActionForm(forms.Form):
    action = forms.CharField()
    reason = forms.CharField(required=False, max_length=200)
    client_damaged = forms.BooleanField(required=False)
    substitute = forms.IntegerField(required=False)


class ReceiveForm(forms.Form):
    """A new device with its SIM, into a store the user holds a field role for."""

    serial = forms.CharField(label=_("Serial"), max_length=40)
    device_model: forms.ModelChoiceField = forms.ModelChoiceField(label=_("Model"), queryset=None)  # type: ignore[arg-type]
    imei = forms.CharField(label=_("IMEI"), max_length=17, required=False)
    identity = forms.CharField(label=_("Device id (as it reports)"), max_length=64, required=False)
    iccid = forms.CharField(label=_("SIM ICCID"), max_length=22, required=False)
    sim_number = forms.CharField(label=_("SIM number"), max_length=20, required=False)
    store_region = forms.ChoiceField(label=_("Store"))

    def __init__(self, *args, user=None, **kwargs):
        from pingantong.regions.models import Region

        from .models import DeviceModel
        from .models.policies import FIELD

        super().__init__(*args, **kwargs)
        self.fields["device_model"].queryset = DeviceModel.objects.filter(active=True)  # type: ignore[attr-defined]
        codes = sorted({code for role, code in user.role_regions() if role in FIELD}) if user else []
        names = dict(Region.objects.filter(pk__in=codes).values_list("pk", "name"))
        self.fields["store_region"].choices = [(c, names.get(c, c)) for c in codes]  # type: ignore[attr-defined]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control form-control-sm")
