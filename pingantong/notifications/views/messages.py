"""Messages and templates pages: the list of messages with their states (and, for the
development channel, the button that plays the person pressing the key), and template editing
with a live preview."""

from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from pingantong.core.audit import log_read, purpose_of
from pingantong.core.masking import mask_phone
from pingantong.core.views import RestrictedDetailView, RestrictedListView, require_object_access

from .. import rules
from ..actions import acknowledge_message
from ..choices import ChannelKind, MessageStatus, Purpose
from ..models import Message, Template


class MessageListView(RestrictedListView):
    model = Message
    template_name = "notifications/message_list.html"

    def get_queryset(self):
        qs = super().get_queryset().select_related("template", "client")
        for name in ("status", "channel", "purpose"):
            if value := self.request.GET.get(name):
                qs = qs.filter(**{name: value})
        if related := self.request.GET.get("related"):
            qs = qs.filter(related=related)
        return qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for message in context["object_list"]:
            message.recipient_masked = mask_phone(message.recipient) if message.recipient.isdigit() else "…"
        context.update(statuses=MessageStatus.choices, channels=ChannelKind.choices, purposes=Purpose.choices)
        return context


class MessageDetailView(RestrictedDetailView):
    model = Message
    template_name = "notifications/message_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.object.sensitive_fields:
            log_read(
                user=self.request.user,
                obj=self.object,
                fields=self.object.sensitive_fields,
                purpose=purpose_of(self.request, "notification_record"),
                request=self.request,
            )
        context["recipient_masked"] = (
            mask_phone(self.object.recipient) if self.object.recipient.isdigit() else "…"
        )
        return context


@login_required
@require_POST
def message_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """Development channel only: play the person pressing the key (or replying) to this message."""
    message = get_object_or_404(Message.objects.restrict(request.user, "view"), pk=pk)
    require_object_access(request, "change", message)
    if message.provider != "development":
        flash.error(request, _("Only messages of the development channel can be acknowledged here."))
    else:
        try:
            acknowledge_message(message=message, answer=request.POST.get("answer", "1")[:20] or "1")
            flash.success(request, _("Acknowledged as if the person had pressed the key."))
        except ValidationError as exc:
            flash.error(request, " ".join(exc.messages))
    return redirect(request.POST.get("next") or "notifications:message-list")


class TemplateListView(RestrictedListView):
    model = Template
    template_name = "notifications/template_list.html"


class TemplateForm(forms.ModelForm):
    class Meta:
        model = Template
        fields = [
            "code",
            "name",
            "purpose",
            "text",
            "aliyun_sms_code",
            "aliyun_tts_code",
            "tencent_template_id",
            "wechat_template_id",
            "active",
        ]
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if text.count("${") != len(rules.PLACEHOLDER.findall(text)):
            raise ValidationError(
                gettext_lazy("A placeholder is not closed or not a valid name: write ${name}.")
            )
        return text


def _sample_params(text: str) -> dict[str, str]:
    samples = {
        "name": "张三",
        "time": "11月28日 10:05",
        "link": "https://example.invalid/s/abc",
        "minutes": "60",
        "area": "三元区",
        "event": "暴雨橙色预警",
        "advice": "减少外出",
        "summary": "冒充社保局的诈骗电话",
        "title": "高龄津贴提标",
        "explanation": "80岁以上老人每月多发50元。",
        "vital": "心率",
        "value": "150次/分",
        "situation": "夜间长时间未回房",
    }
    return {name: samples.get(name, f"〈{name}〉") for name in rules.PLACEHOLDER.findall(text)}


@login_required
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    template = get_object_or_404(Template.objects.restrict(request.user, "view"), pk=pk) if pk else Template()
    require_object_access(request, "change" if pk else "add", template)
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        form.save()
        flash.success(request, _("Template saved."))
        return redirect("notifications:template-list")
    text = form["text"].value() or ""
    return render(
        request,
        "notifications/template_form.html",
        {
            "form": form,
            "object": template,
            "preview": rules.PLACEHOLDER.sub(lambda m: _sample_params(text)[m.group(1)], text),
            "params": _sample_params(text),
        },
    )


@login_required
@require_POST
def template_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the text with sample values, the placeholders it declares, and its SMS length."""
    text = request.POST.get("text", "")
    params = _sample_params(text)
    preview = rules.PLACEHOLDER.sub(lambda m: params[m.group(1)], text)
    return render(
        request,
        "notifications/_template_preview.html",
        {
            "preview": preview,
            "params": params,
            "length": len(preview),
            "segments": 1 if len(preview) <= 70 else -(-len(preview) // 67),
        },
    )
