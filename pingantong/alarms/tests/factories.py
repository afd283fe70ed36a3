"""Access-test factories for the access matrix (pingantong.testing.access_matrix)."""

from __future__ import annotations


def make_alarm_in(region_code: str):
    from pingantong.alarms.actions import raise_alarm

    return raise_alarm(alarm_type="sos", region_code=region_code, device_ident=f"dev-{region_code}")


ACCESS_FACTORIES = {"alarms.Alarm": make_alarm_in}
