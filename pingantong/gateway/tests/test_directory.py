"""The registry look-ups of the listeners (`DeviceDirectory`): batched for a reconnect storm, and one
terminal's identity can never fail the look-ups of the others in its batch (D1: no input stops the
gateway or another terminal's session)."""

from __future__ import annotations

import asyncio

import pytest

from pingantong.devices.actions import register_device
from pingantong.gateway.listeners.directory import DeviceDirectory, is_registrable
from pingantong.gateway.tests.gwtools import ensure_reference_data

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _reference_data():
    ensure_reference_data()


def _look_up(directory: DeviceDirectory, identities: list[str]) -> list:
    async def scenario():
        try:
            return await asyncio.gather(
                *(directory.connected("watch", i) for i in identities), return_exceptions=True
            )
        finally:
            await directory.close()

    return asyncio.run(scenario())


def test_noise_with_a_nul_in_its_identity_does_not_fail_a_real_terminals_look_up():
    """Random bytes can parse as a watch header whose id holds a NUL; PostgreSQL refuses NUL in
    text, and in a batched look-up that used to fail (and close) every session of the batch."""
    device = register_device(protocol="watch", identity="4700186508", device_type="watch")
    found = _look_up(DeviceDirectory("dir-node"), ["4700186508", "47\x00\x9f*garbage", "9" * 65])
    assert [getattr(f, "pk", f) for f in found] == [device.pk, None, None]
    assert not is_registrable("a\x00b") and not is_registrable("") and is_registrable("4700186508")


def test_a_batch_the_database_refuses_is_looked_up_again_one_by_one(monkeypatch):
    """Whatever an identity does to the batched query, the other terminals are still answered;
    only the look-up that fails on its own fails."""
    device = register_device(protocol="watch", identity="4700186509", device_type="watch")
    directory = DeviceDirectory("dir-node")
    real_apply = directory._apply

    def picky(lookups, gone, now):
        if any(identity == "poison" for _protocol, identity in lookups):
            raise ValueError("refused by the database")
        return real_apply(lookups, gone, now)

    monkeypatch.setattr(directory, "_apply", picky)
    found = _look_up(directory, ["4700186509", "poison", "4700186500"])
    assert getattr(found[0], "pk", None) == device.pk
    assert isinstance(found[1], ValueError)
    assert found[2] is None
