"""Durable background work on pgqueuer: Zoom's events, verification, token keep-alive, email, event fan-out.

Jobs are enqueued in the same transaction as the change that calls for them, claimed by one
worker among many (`FOR UPDATE SKIP LOCKED`), retried with backoff, and a job whose worker died
is picked again once its heartbeat goes stale. A job that fails for good stays in the queue with
status `failed` (`roomlink jobs failed` lists them). Beside the queue, every worker runs the
delivery loop of events to the host product (server/event_delivery.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import timedelta

import httpx
import msgspec
from pgqueuer import QueueManager, RetryRequested
from pgqueuer.executors import (
    DatabaseRetryEntrypointExecutor,
    EntrypointExecutorParameters,
)
from pgqueuer.models import Job
from pgqueuer.queries import Queries

from domain import connecting, events, keeping, meetings, session_refresh, sessions
from domain.errors import DailyBudgetSpent, MeetingBeingChanged, MeetingBeingCreated
from domain.events import ANALYZE_AFTER_BATCHES, FAN_OUT
from domain.impact import Impact
from domain.keeping import (
    KEEP_TOKENS_ALIVE,
    NOTIFY_INCIDENT,
    PURGE_EXPIRED,
    SEND_EMAIL,
    VERIFY_ALL,
    VERIFY_ORGANIZATION,
    IncidentNotice,
)
from domain.meeting_model import Meeting
from domain.model import Connection, ConnectionCounts, Member, Organization
from domain.session_model import Booking, RemoteSession
from domain.session_refresh import EMAIL_SESSION_LINK, SessionLinkEmail
from domain.zoom import ZoomApp, ZoomEvent
from domain.zoom_events import take_zoom_event
from persistence import database
from persistence.correlation import REQUEST_ID_HEADER, TRACEPARENT_HEADER, request_id
from persistence.database import unit_of_work
from server import metrics, tracing
from server.bootstrap import configure_cipher, pool_limits, zoom_timeout
from server.clock import SystemClock, utcnow
from server.config import Settings
from server.emails import activation_done_email, incident_email, session_link_email
from server.event_delivery import deliver_events
from server.mail import OutgoingEmail, SmtpMailer, parse_smtp_url
from server.tokens import TokenKeeper
from server.zoom_client import HttpZoom, PageListener, ZoomRateLimited
from server.zoom_meetings import ZoomMeetings

log = logging.getLogger("roomlink.jobs")

ZOOM_EVENT = "zoom_event"
#: The other jobs' kinds are the domain's (domain.keeping, domain.events, domain.meetings, domain.sessions...).
__all__ = [
    "ANALYZE_AFTER_BATCHES",
    "EMAIL_SESSION_LINK",
    "FAN_OUT",
    "KEEP_TOKENS_ALIVE",
    "NOTIFY_INCIDENT",
    "PURGE_EXPIRED",
    "SEND_EMAIL",
    "VERIFY_ALL",
    "VERIFY_ORGANIZATION",
    "ZOOM_EVENT",
    "Worker",
    "run_worker",
    "verify_organization",
]
#: Jobs a dead worker held are picked again after this long without a heartbeat.
HEARTBEAT_TIMEOUT = timedelta(seconds=10)
#: Jobs taken from the queue at a time.
JOB_BATCH = 10
#: A session's reconcile that found its meeting's change under way in Zoom looks again after this long
#: (RetryRequested is not counted against the job's attempts: it waits as long as the change takes).
CHANGE_RETRY = timedelta(seconds=2)


class Worker:
    def __init__(self, settings: Settings, zoom: HttpZoom | None, mailer: SmtpMailer | None) -> None:
        self.settings = settings
        self.keeper = TokenKeeper(zoom) if zoom else None
        self.meetings_zoom = ZoomMeetings(self.keeper, zoom) if self.keeper and zoom else None
        self.mailer = mailer

    async def zoom_event(self, job: Job) -> None:
        payload = json.loads(job.payload)
        body = json.loads(payload["body"])
        await take_zoom_event(unit_of_work, _zoom_event(ZoomApp(payload["app"]), body), utcnow())
        metrics.webhook_handled(str(body.get("event", "")), job.created.timestamp())

    async def verify_all(self, job: Job) -> None:
        await keeping.verify_all(unit_of_work)

    async def purge_expired(self, job: Job) -> None:
        purged = await keeping.purge_expired(unit_of_work, utcnow())
        if any(purged.values()):
            log.info("purged expired rows: %s", purged)

    async def verify_organization(self, job: Job) -> None:
        payload = json.loads(job.payload)
        await verify_organization(self.keeper, payload["org_id"])

    async def keep_tokens_alive(self, job: Job) -> None:
        if self.keeper is None:
            return
        await self.keeper.keep_all_alive(timedelta(seconds=self.settings.keep_alive_within_s))

    async def notify_incident(self, job: Job) -> None:
        payload = json.loads(job.payload)
        notice = IncidentNotice(
            job_id=str(job.id),
            org_id=payload["org_id"],
            connection_id=payload["connection_id"],
            status=payload["status"],
            reason=payload["reason"],
        )
        await keeping.tell_of_incident(unit_of_work, notice, self._incident_email, utcnow())

    async def tell_activation_done(self, job: Job) -> None:
        done = connecting.ActivationDone(job_id=str(job.id), **json.loads(job.payload))
        await connecting.tell_activation_done(unit_of_work, done, self._activation_done_email)

    def _activation_done_email(
        self, person: Member, organization: Organization, connection: Connection, counts: ConnectionCounts
    ) -> dict:
        return msgspec.structs.asdict(activation_done_email(person, organization, connection, counts, self.settings.base_url))

    def _incident_email(
        self, person: Member, organization: Organization, connection: Connection, reason: str, impact: Impact | None
    ) -> dict:
        email = incident_email(person, organization, connection, reason, self.settings.base_url, impact)
        return msgspec.structs.asdict(email)

    async def fan_out_event(self, job: Job) -> None:
        """R24: an organization event becomes its members' events, one committed batch at a time."""
        await events.fan_out_event(unit_of_work, json.loads(job.payload)["event_id"], ANALYZE_AFTER_BATCHES)

    async def make_meeting(self, job: Job) -> None:
        """A pending meeting made in Zoom (R16, R20, R23): after Zoom was unreachable, or after 00:00 UTC."""
        if self.meetings_zoom is None:
            return
        payload = json.loads(job.payload)
        try:
            await meetings.bring_to_zoom(
                payload["org_id"], payload["meeting_id"], unit_of_work, self.meetings_zoom, SystemClock(),
                lease=self.settings.meeting_lease,
            )
        except DailyBudgetSpent as limited:
            delay = max(timedelta(seconds=1), limited.retry_at - utcnow())
            raise RetryRequested(delay=delay, reason=limited.detail) from None
        except MeetingBeingCreated:
            raise RetryRequested(delay=self.settings.meeting_lease, reason="another caller is creating it") from None

    async def reconcile_session(self, job: Job) -> None:
        """A session's meeting brought in line with the session (R16, R19, R21, R23)."""
        if self.meetings_zoom is None:
            return
        payload = json.loads(job.payload)
        try:
            await sessions.reconcile_session(
                payload["org_id"], payload["session_id"], unit_of_work, self.meetings_zoom, SystemClock(),
                lease=self.settings.meeting_lease,
            )
        except DailyBudgetSpent as limited:
            raise RetryRequested(delay=max(timedelta(seconds=1), limited.retry_at - utcnow()), reason=limited.detail) from None
        except MeetingBeingChanged:
            # One Zoom update is under way: look again in a moment, when there is most likely nothing left to send.
            raise RetryRequested(delay=CHANGE_RETRY, reason="another caller is changing it in Zoom") from None
        except MeetingBeingCreated:
            raise RetryRequested(delay=self.settings.meeting_lease, reason="another caller is creating it") from None

    async def review_host_sessions(self, job: Job) -> None:
        payload = json.loads(job.payload)
        await sessions.review_host_sessions(unit_of_work, payload["org_id"], payload["user_id"], utcnow())

    async def email_session_link(self, job: Job) -> None:
        """One participant, one time the session became ready: the link as it is now (a later time has its own).

        Never twice (R16): the email is claimed in the database before it is sent, and released only if sending
        failed, so a job run again — after a retry, or by a second worker — finds it sent and does nothing.
        """
        if self.mailer is None:
            log.warning("a session link email was due but SMTP_URL is not set; it is dropped")
            return
        payload = json.loads(job.payload)
        cmd = SessionLinkEmail(
            org_id=payload["org_id"],
            session_id=payload["session_id"],
            booking_id=payload["booking_id"],
            generation=payload["generation"],
        )
        await session_refresh.email_session_link(unit_of_work, cmd, self._send_session_link)

    async def _send_session_link(
        self, booking: Booking, session: RemoteSession, meeting: Meeting, organization: Organization
    ) -> None:
        assert self.mailer is not None
        await self.mailer.send(session_link_email(booking, session, meeting, organization))

    async def send_email(self, job: Job) -> None:
        if self.mailer is None:
            log.warning("an email was due but SMTP_URL is not set; it is dropped")
            return
        await self.mailer.send(OutgoingEmail(**json.loads(job.payload)))


async def verify_organization(keeper: TokenKeeper | None, org_id: str, on_page: PageListener | None = None) -> None:
    """domain.keeping.verify_organization through this process's token keeper (none without Zoom configured)."""
    if keeper is not None:
        await keeping.verify_organization(unit_of_work, keeper, org_id, utcnow, on_page)


def _zoom_event(app: ZoomApp, body: dict) -> ZoomEvent:
    payload = body.get("payload", {})
    subject = payload.get("object") or {}
    return ZoomEvent(
        event=body.get("event", ""),
        app=app,
        account_id=str(payload.get("account_id", "")),
        zoom_user_id=str(subject.get("id") or payload.get("user_id") or ""),
        object=subject,
    )


def _logged(name: str, handler):
    """A failing job says why in the worker's log before the queue retries it; one Zoom rate limits
    is retried when Zoom says, even if that is tomorrow, without spending its attempts."""

    async def run(job: Job) -> None:
        headers = job.headers or {}
        token = request_id.set(str(headers.get(REQUEST_ID_HEADER) or f"job-{job.id}"))
        started, outcome = time.perf_counter(), "error"
        try:
            with tracing.span(
                f"job {name}", tracing.CONSUMER, parent=headers.get(TRACEPARENT_HEADER), roomlink__job_id=job.id
            ):
                await handler(job)
            outcome = "ok"
        except ZoomRateLimited as limited:
            if limited.retry_after_s is None:
                raise
            outcome = "rate_limited"
            log.warning("job %s %s waits %.0f s for Zoom's rate limit", name, job.id, limited.retry_after_s)
            raise RetryRequested(delay=timedelta(seconds=limited.retry_after_s), reason=str(limited)) from None
        except Exception:
            log.exception("job %s %s failed (attempt %s)", name, job.id, job.attempts + 1)
            raise
        finally:
            seconds = time.perf_counter() - started
            metrics.job_ran(name, outcome, seconds)
            log.info(
                "job %s %s: %s",
                name,
                job.id,
                outcome,
                extra={"job_kind": name, "job_id": job.id, "outcome": outcome, "duration_ms": round(seconds * 1000, 1)},
            )
            request_id.reset(token)

    return run


def _retrying(max_attempts: int):
    def factory(parameters: EntrypointExecutorParameters) -> DatabaseRetryEntrypointExecutor:
        return DatabaseRetryEntrypointExecutor(
            parameters=parameters,
            max_attempts=max_attempts,
            initial_delay=timedelta(seconds=2),
            max_delay=timedelta(minutes=10),
        )

    return factory


async def run_worker(settings: Settings, stop: asyncio.Event, *, configure: bool = True) -> None:
    """Work until `stop` is set; several of these may run, in any number of processes."""
    if configure:
        configure_cipher(settings)
        tracing.start("worker")
        await database.open_pool(pool_limits(settings))
    connection = await database.engine().get_new_connection()
    try:
        async with httpx.AsyncClient(timeout=zoom_timeout(settings)) as http:
            worker = Worker(
                settings,
                HttpZoom(settings.zoom, http) if settings.zoom else None,
                SmtpMailer(parse_smtp_url(settings.smtp_url)) if settings.smtp_url else None,
            )
            manager = QueueManager(queries=Queries.from_asyncpg_connection(connection))
            for name, handler, attempts in (
                (ZOOM_EVENT, worker.zoom_event, 8),
                (VERIFY_ALL, worker.verify_all, 3),
                (VERIFY_ORGANIZATION, worker.verify_organization, 5),
                (KEEP_TOKENS_ALIVE, worker.keep_tokens_alive, 3),
                (NOTIFY_INCIDENT, worker.notify_incident, 5),
                (connecting.TELL_ACTIVATION_DONE, worker.tell_activation_done, 5),
                (SEND_EMAIL, worker.send_email, 8),
                (PURGE_EXPIRED, worker.purge_expired, 3),
                (FAN_OUT, worker.fan_out_event, 10),
                (meetings.MAKE_MEETING, worker.make_meeting, 12),
                (sessions.RECONCILE_SESSION, worker.reconcile_session, 12),
                (sessions.REVIEW_HOST_SESSIONS, worker.review_host_sessions, 5),
                (EMAIL_SESSION_LINK, worker.email_session_link, 8),
            ):
                manager.entrypoint(name, on_failure="hold", executor_factory=_retrying(attempts))(_logged(name, handler))
            ticker = asyncio.create_task(_tick(settings.verify_interval_s, stop)) if settings.verify_interval_s else None
            stopper = asyncio.create_task(_stop_when(stop, manager))
            delivery = asyncio.create_task(deliver_events(settings, stop))
            try:
                await manager.run(
                    dequeue_timeout=timedelta(seconds=2),
                    heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    batch_size=JOB_BATCH,
                    # Each job holds a database connection only for its short transactions (never while it waits on
                    # Zoom or SMTP); twice the pool keeps them from queueing for one until the acquire timeout.
                    max_concurrent_tasks=max(2 * JOB_BATCH, 2 * settings.db_pool_size),
                )
            finally:
                if ticker is not None:
                    ticker.cancel()
                stopper.cancel()
                stop.set()
                await delivery
    finally:
        await connection.close()
        if configure:
            await database.close_pool()
            tracing.stop()


async def _tick(interval_s: float, stop: asyncio.Event) -> None:
    """Periodic verification that does not depend on webhooks arriving."""
    while not stop.is_set():
        try:
            await keeping.ask_for_verification(unit_of_work)
        except Exception:
            log.exception("could not schedule verification")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        except TimeoutError:
            pass


async def _stop_when(stop: asyncio.Event, manager: QueueManager) -> None:
    await stop.wait()
    manager.shutdown.set()
