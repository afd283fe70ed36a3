"""Forms of the gateway page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pingantong.devices.models import DeviceType


class BindUnknownDeviceForm(forms.Form):
    """Register a terminal from the unknown-device inbox, and optionally bind it to a client."""

    device_type = forms.ModelChoiceField(
        label=_("Device type"), queryset=DeviceType.objects.order_by("code"), empty_label=None
    )
    model_name = forms.CharField(label=_("Model"), max_length=100, required=False)
    client = forms.IntegerField(
        label=_("Client number"),
        required=False,
        min_value=1,
        help_text=_("Optional: the client (服务对象) who uses it; it can also be bound later."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control form-control-sm")
        self.fields["device_type"].widget.attrs["class"] = "form-select form-select-sm"
