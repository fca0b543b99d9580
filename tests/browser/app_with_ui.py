"""Roomlink as the browser tests run it: with a demo outbox when ROOMLINK_DEMO=1."""

from __future__ import annotations

import os

from litestar import Litestar

from server.demo_app import create_demo_app
from server.outbox import LocalSmtpServer

#: The port the demo's outbox listens on, chosen by the test that sends it mail.
OUTBOX_PORT_ENV = "ROOMLINK_TEST_OUTBOX_PORT"


def create_demo() -> Litestar:
    """As in demo mode (ROOMLINK_DEMO=1), with an outbox keeping what Roomlink sends."""
    outbox = LocalSmtpServer(port=int(os.environ[OUTBOX_PORT_ENV]))
    app = create_demo_app(outbox=outbox)
    app.on_startup.append(outbox.start)
    app.on_shutdown.append(outbox.stop)
    return app
