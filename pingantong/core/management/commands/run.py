"""`pingantong run`: the whole platform from one command.

Embedded default: migrates, creates the first administrator on an empty database (and prints how
to log in), loads the demonstration district unless PINGANTONG_DEMO=0, then serves HTTP and
websockets (uvicorn, ASGI) with every registered long-running service (device gateway, MQTT, live
push relay, ...) in the same event loop, and the task worker and scheduler (Huey) beside it.

Scaled mode: `--only web`, `--only gateway`, `--only worker` (or `--only web,gateway`) start the
parts on their own, several of each behind a load balancer (docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction

from pingantong.core import services

log = logging.getLogger("pingantong.run")
PARTS = ("web", "services", "worker")


def use_uvloop() -> None:
    """The event loop of the web server and the services is uvloop where installed (it is, through
    uvicorn[standard]): the gateway's 10,000 connections cost about half the CPU on it (decision
    0093). PINGANTONG_UVLOOP=0 keeps asyncio's own loop."""
    if os.environ.get("PINGANTONG_UVLOOP", "1") == "0":
        return
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


class Command(BaseCommand):
    help = "Start the platform: web server, gateway and other services, and the task worker."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            default="",
            help="comma-separated parts to start: web, services (or a service name such as gateway), worker",
        )
        parser.add_argument("--host", default=os.environ.get("PINGANTONG_HTTP_HOST", "0.0.0.0"))
        parser.add_argument("--port", type=int, default=settings.PINGANTONG_HTTP_PORT)
        parser.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
        parser.add_argument(
            "--no-worker-periodic",
            action="store_true",
            help="this worker does not schedule periodic tasks (all but one worker in scaled mode)",
        )

    def handle(self, *args, **opts):
        wanted = {p.strip() for p in opts["only"].split(",") if p.strip()}
        known = set(PARTS) | set(services.all_services())
        if unknown := wanted - known:
            raise CommandError(
                f"unknown part(s): {', '.join(sorted(unknown))}; choose from {', '.join(sorted(known))}"
            )
        if not opts["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        self.first_run_setup()

        run_web = (not wanted or "web" in wanted) and opts["port"] != 0  # port 0 turns the listener off
        if opts["port"] == 0:
            self.stdout.write("web: off (port 0)")
        service_names = [
            name for name in services.all_services() if not wanted or "services" in wanted or name in wanted
        ]
        worker = None
        if not wanted or "worker" in wanted:
            worker = self.start_worker(periodic=not opts["no_worker_periodic"])
        try:
            if run_web or service_names:
                use_uvloop()
                asyncio.run(self.serve(run_web, service_names, opts["host"], opts["port"]))
            elif worker is not None:
                worker.wait()
        except KeyboardInterrupt:
            pass
        finally:
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.wait(timeout=10)
                if worker.poll() is None:
                    worker.kill()

    def first_run_setup(self) -> None:
        from django.contrib.auth import get_user_model

        User = get_user_model()
        if not User.objects.exists():
            password = os.environ.get("PINGANTONG_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            try:
                with transaction.atomic():
                    User.objects.create_superuser(
                        username="admin", password=password, display_name="系统管理员"
                    )
            except IntegrityError:
                return  # another process starting on the same empty database created it first
            path = settings.VAR_DIR / "admin-login.txt"
            path.write_text(f"username: admin\npassword: {password}\n")
            path.chmod(0o600)
            self.stdout.write(self.style.SUCCESS("=" * 64))
            self.stdout.write(self.style.SUCCESS("  First administrator created / 已创建首个管理员账号"))
            self.stdout.write(self.style.SUCCESS("    username / 用户名: admin"))
            self.stdout.write(self.style.SUCCESS(f"    password / 密码:   {password}"))
            self.stdout.write(self.style.SUCCESS(f"  (also saved in {path})"))
            self.stdout.write(self.style.SUCCESS("=" * 64))
            if settings.PINGANTONG_DEMO:
                self.load_demo()

    def load_demo(self) -> None:
        try:
            from pingantong.demo.loading import load_demo  # type: ignore[import-not-found]
        except ImportError:
            return
        load_demo(stdout=self.stdout)

    def start_worker(self, *, periodic: bool) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "pingantong.cli", "run_huey"]
        if not periodic:
            cmd.append("--no-periodic")
        self.stdout.write(f"worker: {' '.join(cmd[2:])}")
        return subprocess.Popen(cmd, env=os.environ.copy())

    async def serve(self, run_web: bool, service_names: list[str], host: str, port: int) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        tasks = []
        registry = services.all_services()
        for name in service_names:
            self.stdout.write(f"service: {name}")
            tasks.append(asyncio.create_task(self.supervise(name, registry[name].run, stop), name=name))
        server = None
        if run_web:
            import uvicorn

            config = uvicorn.Config(
                "pingantong.asgi:application",
                host=host,
                port=port,
                lifespan="off",
                log_level="info",
                ws_ping_interval=20,
                proxy_headers=True,
            )
            server = uvicorn.Server(config)
            # The command's own handlers (above) stop every part together; uvicorn must not take
            # SIGINT/SIGTERM for itself (newer uvicorn: capture_signals, older: install_signal_handlers).
            if hasattr(server, "capture_signals"):
                server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
            else:  # pragma: no cover - uvicorn < 0.29
                server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
            self.stdout.write(f"web: http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/")
            tasks.append(asyncio.create_task(server.serve(), name="web"))
        await stop.wait()
        if server is not None:
            server.should_exit = True
        await asyncio.wait(tasks, timeout=15)

    async def supervise(self, name: str, run, stop: asyncio.Event) -> None:
        """Restart a crashed service after a pause; a failing part never takes the others down."""
        delay = 1.0
        while not stop.is_set():
            try:
                await run(stop)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("service %s crashed; restarting in %.0f s", name, delay)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                delay = min(delay * 2, 30.0)
