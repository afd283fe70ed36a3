"""What terminals sent: raw frames (audit), every decoded event, and the time series.

These tables grow fastest (a watch reporting every 5 minutes is ~105,000 rows a year per series).
Events and the series are indexed on (device, time) so that "latest N of one device" and "one
device over a day" stay index range scans however large the table gets; raw frames by time only
(nothing reads them by device, decision 0124). None of the five holds a database constraint to
the device registry (decision 0124: the check cost more than the insert on PostgreSQL).

On PostgreSQL these five tables are monthly range partitions on `received_at` (migration gateway
0002, pingantong.gateway.partitions; decision 0101): partitions are created ahead and whole expired
months dropped (positions 7 days minimum, S09; raw frames 180 days; events and vitals longer); on
SQLite, and for the rest of a month on PostgreSQL, a scheduled purge deletes by time in small
batches.

A partitioned table's primary key must include the partition key, so nothing can hold a database
foreign key *to* a raw frame or an event: those references are declared `db_constraint=False`
(the ORM still follows them, and SET_NULL on delete is done by Django).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from pingantong.core.access import RestrictedQuerySet
from pingantong.devices.models.policies import OF_DEVICE_READONLY


class RawFrame(models.Model):
    """A frame exactly as it came off the wire (or the MQTT/webhook payload), kept for audit."""

    protocol = models.CharField(_("protocol"), max_length=16)
    device = models.ForeignKey(
        "devices.Device",
        # A frame is the audit record of what arrived and keeps the device it was stored under,
        # even if that registry row is deleted later. No index by device and no database
        # constraint (decision 0124): nothing looks raw frames up by device (the gateway page
        # reads them by time; support staff reach a frame from its event), and at 10,000 frames
        # a second a (device, time) index put one random page into every commit per frame.
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="raw_frames",
        db_index=False,
        db_constraint=False,
    )
    device_identity = models.CharField(_("identity"), max_length=64, blank=True)
    peer = models.CharField(_("peer address"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("received at"))
    data = models.BinaryField(_("bytes"))
    error = models.CharField(_("decode error"), max_length=255, blank=True)
    gateway_node = models.CharField(_("gateway node"), max_length=64, blank=True)

    access_policy = OF_DEVICE_READONLY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["received_at"], name="rawframe_time"),
            # Malformed frames are rare: a partial index lets the gateway page count them cheaply.
            models.Index(
                fields=["received_at"], name="rawframe_malformed_time", condition=~models.Q(error="")
            ),
        ]
        verbose_name = _("raw frame")
        verbose_name_plural = _("raw frames")

    def __str__(self) -> str:
        return f"{self.protocol} frame from {self.device_identity or self.peer}"

    @property
    def hex(self) -> str:
        return bytes(self.data).hex()


class DeviceEventRecord(models.Model):
    """Every decoded `DeviceEvent`, stored before the device is acknowledged.

    `device` is null for a terminal not in the registry (the identity is kept), so an SOS from an
    unbound or unknown terminal is stored and processed like any other. Until the rules stage has
    handled it, an event also has a row in `UnprocessedEvent`; a gateway restarting picks up what
    it had stored but not yet processed (see pingantong.gateway.pipeline.recover_unprocessed).
    """

    device = models.ForeignKey(
        "devices.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,  # the (device, time) index serves every look-up by device (decision 0122)
        # No database constraint (decision 0124): on PostgreSQL each inserted row's check locked
        # the device row (SELECT … FOR KEY SHARE), ~5 µs of server CPU per row at full load. The
        # ingest writer takes device ids from the registry in the same batch; Django still
        # applies SET_NULL when a device is deleted.
        db_constraint=False,
    )
    protocol = models.CharField(_("protocol"), max_length=16)
    device_identity = models.CharField(_("identity"), max_length=64)
    message = models.CharField(pgettext_lazy("protocol message type", "message"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16)
    alarms = models.JSONField(
        pgettext_lazy("alarm flags reported by a device", "alarms"), default=list, blank=True
    )
    device_time = models.DateTimeField(_("device time"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))
    archived = models.BooleanField(_("blind-area data"), default=False)
    serial = models.PositiveIntegerField(_("terminal serial"), null=True, blank=True)
    payload = models.JSONField(_("event"), default=dict)
    raw_frame = models.ForeignKey(
        RawFrame,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        db_constraint=False,  # RawFrame is partitioned on PostgreSQL (see the module docstring)
    )
    gateway_node = models.CharField(_("gateway node"), max_length=64, blank=True)

    access_policy = OF_DEVICE_READONLY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["device", "received_at"], name="event_device_time"),
            # Device supervision reads the last day's alarms (fault, taken off, low battery) every
            # 10 minutes: a partial index holds the alarm rows only, so the gateway's inserts of
            # ordinary events pay nothing for it and the sweep never scans the table (decision 0091).
            models.Index(fields=["received_at"], name="event_alarm_time", condition=models.Q(kind="alarm")),
        ]
        verbose_name = _("device event")
        verbose_name_plural = _("device events")

    def __str__(self) -> str:
        return f"{self.kind} {self.message} from {self.device_identity}"


class UnprocessedEvent(models.Model):
    """A stored event the rules stage has not handled yet: the rules stage's queue (decision 0132).

    The ingest writer inserts one row per event in the transaction that stores the event; the rules
    stage reads a node's rows in id order and deletes them once the event's decisions are applied.
    (Events used to carry a `processed_at` column under a partial index instead: marking a row
    processed rewrote the whole wide event row and every index of it, ~20 µs of PostgreSQL's CPU
    per event at 10,000 a second; deleting a row of two narrow columns costs ~3 µs.)

    No foreign key: the events table is partitioned on PostgreSQL. A row whose event is gone (a
    partition dropped under a node that never came back) is deleted by the next reader.
    """

    pk = models.CompositePrimaryKey("gateway_node", "event_id")
    gateway_node = models.CharField(_("gateway node"), max_length=64, blank=True)
    event_id = models.BigIntegerField(_("event"))

    class Meta:
        verbose_name = _("unprocessed event")
        verbose_name_plural = _("unprocessed events")

    def __str__(self) -> str:
        return f"event {self.event_id} of {self.gateway_node or 'the default node'}"


class _Series(models.Model):
    """Common columns of a time series row: which device, when it happened, when we got it."""

    device = models.ForeignKey(
        "devices.Device",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the (device, time) index serves every look-up by device
        db_constraint=False,  # as DeviceEventRecord.device (decision 0124); Django cascades
    )
    recorded_at = models.DateTimeField(_("time"))
    received_at = models.DateTimeField(_("received at"))
    event = models.ForeignKey(
        DeviceEventRecord,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # partitioned on PostgreSQL
    )

    access_policy = OF_DEVICE_READONLY
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return (
            f"{type(self)._meta.verbose_name} of device {self.device_id} at {self.recorded_at:%Y-%m-%d %H:%M}"
        )


class PositionRecord(_Series):
    """A fix (WGS-84), kept at least 7 days (S09). Invalid (no-fix) positions are kept but flagged."""

    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    valid = models.BooleanField(_("fix valid"))
    speed_kmh = models.FloatField(_("speed km/h"), null=True, blank=True)
    course_deg = models.FloatField(_("course"), null=True, blank=True)
    altitude_m = models.FloatField(_("altitude m"), null=True, blank=True)
    satellites = models.PositiveSmallIntegerField(_("satellites"), null=True, blank=True)
    archived = models.BooleanField(_("blind-area data"), default=False)

    class Meta:
        indexes = [models.Index(fields=["device", "recorded_at"], name="position_device_time")]
        verbose_name = _("position")
        verbose_name_plural = _("positions")


class VitalsRecord(_Series):
    """One vitals measurement (S22); only the values the terminal sent are set."""

    heart_rate_bpm = models.FloatField(_("heart rate"), null=True, blank=True)
    bp_systolic_mmhg = models.FloatField(_("systolic"), null=True, blank=True)
    bp_diastolic_mmhg = models.FloatField(_("diastolic"), null=True, blank=True)
    spo2_pct = models.FloatField(_("SpO2 %"), null=True, blank=True)
    body_temp_c = models.FloatField(_("body temperature"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["device", "recorded_at"], name="vitals_device_time")]
        verbose_name = _("vitals reading")
        verbose_name_plural = _("vitals readings")


class SensorRecord(_Series):
    """One home-sensor state report (S05, S25): the normalised state and any alarms."""

    state = models.JSONField(_("state"), default=dict)
    alarms = models.JSONField(
        pgettext_lazy("alarm flags reported by a device", "alarms"), default=list, blank=True
    )

    class Meta:
        indexes = [models.Index(fields=["device", "recorded_at"], name="sensor_device_time")]
        verbose_name = _("sensor reading")
        verbose_name_plural = _("sensor readings")
