"""SMPP 3.4 client on asyncio, and the SMS adapter for carriers' gateways.

A send opens a transceiver session (bind_transceiver), submits with registered_delivery=1, and
unbinds. Delivery receipts that arrive on the session (deliver_sm, esm_class 0x04) are answered
with deliver_sm_resp and handed to `on_receipt`; a long-lived receiver session for receipts runs
as a service (`listen`). ESME_RTHROTTLED (0x58) and a full queue are transient; a refused bind is
permanent (bad credentials). Settings from the environment: PINGANTONG_SMPP_HOST,
PINGANTONG_SMPP_PORT, SMPP_SYSTEM_ID, SMPP_PASSWORD, SMPP_SOURCE_ADDR.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ..channels.base import Outgoing, PermanentError, Receipt, SendResult, TransientError, env
from . import smpp_codec as c

T = TypeVar("T")


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous code, also when this thread already runs an
    event loop (then in a helper thread with its own loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


class SmppSession:
    """One bound SMPP session: request/response by sequence number, receipts to a callback."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_receipt: Callable[[Receipt], None] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.on_receipt = on_receipt
        self.timeout = timeout
        self._seq = itertools.count(1)
        self._pending: dict[int, asyncio.Future[c.Pdu]] = {}
        self._codec = c.PduReader()
        self._task = asyncio.create_task(self._read_loop())

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        timeout: float = 10.0,
        on_receipt: Callable[[Receipt], None] | None = None,
    ) -> SmppSession:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (TimeoutError, OSError) as exc:
            raise TransientError("connect", f"SMPP gateway {host}:{port} unreachable: {exc}") from exc
        return cls(reader, writer, on_receipt, timeout)

    async def _read_loop(self) -> None:
        try:
            while data := await self.reader.read(65536):
                for pdu in self._codec.feed(data):
                    await self._dispatch(pdu)
        except (c.PduError, ConnectionError):
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(TransientError("disconnected", "SMPP session closed"))

    async def _dispatch(self, pdu: c.Pdu) -> None:
        if pdu.command_id & c.RESP:
            future = self._pending.pop(pdu.sequence, None)
            if future is not None and not future.done():
                future.set_result(pdu)
            return
        if pdu.command_id == c.ENQUIRE_LINK:
            self._write(c.Pdu(c.ENQUIRE_LINK | c.RESP, 0, pdu.sequence))
        elif pdu.command_id == c.DELIVER_SM:
            self._write(c.Pdu(c.DELIVER_SM | c.RESP, 0, pdu.sequence, c.cstr("")))
            sm = c.parse_sm(pdu.body)
            if sm.esm_class & 0x04 and self.on_receipt is not None:
                fields = c.parse_receipt_text(sm.text)
                receipted = sm.tlvs.get(c.TLV_RECEIPTED_MESSAGE_ID, b"").rstrip(
                    b"\x00"
                ).decode() or fields.get("id", "")
                self.on_receipt(
                    Receipt(
                        provider_message_id=receipted,
                        delivered=fields.get("stat") == "DELIVRD",
                        code=fields.get("stat", ""),
                        detail=f"err:{fields.get('err', '')}",
                    )
                )
        elif pdu.command_id == c.UNBIND:
            self._write(c.Pdu(c.UNBIND | c.RESP, 0, pdu.sequence))
        else:
            self._write(c.Pdu(c.GENERIC_NACK, c.ESME_RINVCMDID, pdu.sequence))

    def _write(self, pdu: c.Pdu) -> None:
        self.writer.write(c.encode(pdu))

    async def request(self, command_id: int, body: bytes = b"") -> c.Pdu:
        sequence = next(self._seq)
        future: asyncio.Future[c.Pdu] = asyncio.get_running_loop().create_future()
        self._pending[sequence] = future
        self._write(c.Pdu(command_id, 0, sequence, body))
        await self.writer.drain()
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError as exc:
            self._pending.pop(sequence, None)
            raise TransientError("timeout", f"no SMPP response within {self.timeout:g} s") from exc

    async def bind(self, system_id: str, password: str, command_id: int = c.BIND_TRANSCEIVER) -> None:
        response = await self.request(command_id, c.bind_body(system_id, password))
        if response.status != c.ESME_ROK:
            raise PermanentError(response.status_name, "SMPP bind refused")

    async def submit(self, *, source: str, destination: str, text: str) -> str:
        response = await self.request(
            c.SUBMIT_SM, c.submit_sm_body(source=source, destination=destination, text=text)
        )
        if response.status != c.ESME_ROK:
            error = TransientError if response.status in c.TRANSIENT_STATUSES else PermanentError
            raise error(response.status_name, "submit_sm refused")
        return c.BodyReader(response.body).cstring()

    async def enquire_link(self) -> None:
        await self.request(c.ENQUIRE_LINK)

    async def close(self) -> None:
        try:
            if not self._task.done():
                await asyncio.wait_for(self.request(c.UNBIND), 2)
        except Exception:  # noqa: S110 - closing anyway
            pass
        self._task.cancel()
        self.writer.close()


class SmppSms:
    """SMS through a carrier's SMPP 3.4 gateway."""

    name = "smpp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        system_id: str,
        password: str,
        source_addr: str,
        timeout: float = 10.0,
        receipt_wait: float = 0.0,
        on_receipt: Callable[[Receipt], None] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.system_id, self.password = system_id, password
        self.source_addr = source_addr
        self.timeout = timeout
        self.receipt_wait = receipt_wait
        self.on_receipt = on_receipt

    @classmethod
    def from_env(cls) -> SmppSms:
        return cls(
            host=env("PINGANTONG_SMPP_HOST"),
            port=int(env("PINGANTONG_SMPP_PORT", "2775")),
            system_id=env("SMPP_SYSTEM_ID"),
            password=env("SMPP_PASSWORD"),
            source_addr=env("SMPP_SOURCE_ADDR", "PingAnTong"),
        )

    def send(self, message: Outgoing) -> SendResult:
        return run_coroutine(lambda: self._send(message))

    async def _send(self, message: Outgoing) -> SendResult:
        session = await SmppSession.open(
            self.host, self.port, timeout=self.timeout, on_receipt=self.on_receipt
        )
        try:
            await session.bind(self.system_id, self.password)
            destination = (
                message.recipient if message.recipient.startswith("86") else f"86{message.recipient}"
            )
            message_id = await session.submit(
                source=self.source_addr, destination=destination.lstrip("+"), text=message.text
            )
            if self.receipt_wait:
                await asyncio.sleep(self.receipt_wait)
            return SendResult(provider_message_id=message_id)
        finally:
            await session.close()

    async def listen(self, stop: asyncio.Event, enquire_every: float = 30.0) -> None:
        """Stay bound as a receiver and hand every delivery receipt to `on_receipt` until `stop`."""
        while not stop.is_set():
            try:
                session = await SmppSession.open(
                    self.host, self.port, timeout=self.timeout, on_receipt=self.on_receipt
                )
                await session.bind(self.system_id, self.password, c.BIND_RECEIVER)
                while not stop.is_set():
                    try:
                        await asyncio.wait_for(stop.wait(), enquire_every)
                    except TimeoutError:
                        await session.enquire_link()
                await session.close()
            except (TransientError, PermanentError):
                try:
                    await asyncio.wait_for(stop.wait(), 30)
                except TimeoutError:
                    continue
