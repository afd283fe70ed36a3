"""The message templates the platform needs, as seeded by migration 0002 (edit them in the UI;
fill in each provider's code once the provider has approved the text)."""

SEED_TEMPLATES = [
    (
        "sos_contact",
        "SOS alarm to contact",
        "sos",
        "【平安通】紧急求助：您的家人${name}于${time}发出紧急求助。位置：${link} 请尽快联系TA，收到请回复1。",
    ),
    (
        "sos_contact_voice",
        "SOS alarm to contact (voice)",
        "sos",
        "平安通紧急通知：您的家人${name}刚刚发出了紧急求助，请尽快与TA联系。确认收到请按1。",
    ),
    (
        "location_s08",
        "Location sharing S08",
        "location",
        "【平安通】${name}的当前位置：${link}（${minutes}分钟内有效）。",
    ),
    (
        "geofence_s10",
        "Geofence exit S10",
        "geofence",
        "【平安通】安全区域提醒：您的家人${name}于${time}离开了安全区域，当前位置：${link}",
    ),
    (
        "vitals_s23",
        "Abnormal vitals S23",
        "vitals",
        "【平安通】健康预警：${name}于${time}测得${vital}为${value}，超出正常范围，请及时关注。",
    ),
    (
        "behaviour_s26",
        "Abnormal situation S26",
        "behaviour",
        "【平安通】安全提醒：${name}家中出现异常情况（${situation}），时间${time}，请尽快联系确认。",
    ),
    (
        "behaviour_s28",
        "Abnormal behaviour S28",
        "behaviour",
        "【平安通】行为异常提醒：${name}${situation}（${time}），请尽快联系确认。",
    ),
    (
        "weather_s13",
        "Extreme weather S13",
        "weather",
        "【平安通】天气提醒：${area}预计${time}起有${event}，请${advice}。需要帮助请拨打平安通热线。",
    ),
    (
        "fraud_s14",
        "Fraud alert S14",
        "fraud",
        "【平安通】防诈提醒：近期本地出现${summary}。请勿向陌生人转账或透露验证码，有疑问请拨打110或平安通热线。",
    ),
    (
        "policy_s15",
        "Policy notice S15",
        "policy",
        "【平安通】政策提醒：${title}。${explanation}详情可询问村（居）委会或平安通热线。",
    ),
    (
        "care_greeting",
        "Care call greeting",
        "care",
        "${name}您好，我是平安通的服务人员，今天来问候您，最近身体好吗？有需要请按1，我们会尽快联系您。",
    ),
]


def ensure_seed_templates(model=None) -> int:
    """Create the missing seed templates (migration 0002, and tests that flush the database)."""
    if model is None:
        from .models import Template as model
    created = 0
    for code, name, purpose, text in SEED_TEMPLATES:
        created += model.objects.get_or_create(
            code=code, defaults={"name": name, "purpose": purpose, "text": text}
        )[1]
    return created
