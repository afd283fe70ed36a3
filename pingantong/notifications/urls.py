"""Web pages of the notifications app (mounted at /notifications/)."""

from django.urls import path

from .views import broadcasts, hooks, messages, preferences, share

app_name = "notifications"
urlpatterns = [
    path("", messages.MessageListView.as_view(), name="message-list"),
    path("messages/<int:pk>/", messages.MessageDetailView.as_view(), name="message-detail"),
    path("messages/<int:pk>/acknowledge/", messages.message_acknowledge, name="message-acknowledge"),
    path("templates/", messages.TemplateListView.as_view(), name="template-list"),
    path("templates/new/", messages.template_edit, name="template-create"),
    path("templates/<int:pk>/", messages.template_edit, name="template-edit"),
    path("templates/preview/", messages.template_preview, name="template-preview"),
    path("preferences/", preferences.PreferenceListView.as_view(), name="preference-list"),
    path("preferences/new/", preferences.preference_edit, name="preference-create"),
    path("preferences/<int:pk>/", preferences.preference_edit, name="preference-edit"),
    path("broadcasts/", broadcasts.BroadcastListView.as_view(), name="broadcast-list"),
    path("broadcasts/new/", broadcasts.broadcast_create, name="broadcast-create"),
    path("broadcasts/cap/", broadcasts.broadcast_upload_cap, name="broadcast-cap"),
    path("broadcasts/<int:pk>/", broadcasts.broadcast_detail, name="broadcast-detail"),
    path("broadcasts/<int:pk>/progress/", broadcasts.broadcast_progress, name="broadcast-progress"),
    path("broadcasts/<int:pk>/approve/", broadcasts.broadcast_approve, name="broadcast-approve"),
    path("broadcasts/<int:pk>/cancel/", broadcasts.broadcast_cancel, name="broadcast-cancel"),
    path("share/<str:token>/", share.location_share, name="location-share"),
    path("hooks/aliyun/sms-report/", hooks.aliyun_sms_report, name="hook-aliyun-sms"),
    path("hooks/aliyun/voice-report/", hooks.aliyun_voice_report, name="hook-aliyun-voice"),
    path("hooks/tencent/sms-status/", hooks.tencent_sms_status, name="hook-tencent-sms"),
    path("hooks/fraud/", hooks.fraud_webhook, name="hook-fraud"),
    path("hooks/wechat/", hooks.wechat_event, name="hook-wechat"),
]
