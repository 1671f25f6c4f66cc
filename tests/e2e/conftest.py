"""Shared pieces of Conclave's end-to-end suite (PROTOCOL.md).

The suite talks to a running server found through two environment variables:

- ``CONCLAVE_BASE_URL``: e.g. ``http://127.0.0.1:8123`` (``./test.sh`` starts a server and sets it)
- ``CONCLAVE_API_KEY``: the admin key of that server

Without ``CONCLAVE_BASE_URL`` every e2e test is skipped. ``CONCLAVE_E2E_RUN_TIMEOUT``
(seconds, default 30) bounds the wait for one run to end.

The seed test (test_ws_basic.py) imports ``WSChatHelper``, ``create_session_via_api`` and
``register_skill_via_api`` from here and uses the ``ws_helper`` and ``api_client`` fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Callable, Iterable
from urllib.parse import quote

import httpx
import pytest
import websockets
import websockets.exceptions

BASE_URL = os.environ.get("CONCLAVE_BASE_URL", "").rstrip("/")
API_KEY = os.environ.get("CONCLAVE_API_KEY", "")
RUN_TIMEOUT = float(os.environ.get("CONCLAVE_E2E_RUN_TIMEOUT", "30"))
RECV_TIMEOUT = 10.0  # one frame that must come (connected, pong, an error about a bad frame)
QUIET = 0.3  # a pause this long means nothing more is coming for now

# The 17 server -> client types (PROTOCOL.md §3.1).
SERVER_TYPES = frozenset(
    {
        "connected",
        "pong",
        "thinking",
        "token",
        "step",
        "final_answer",
        "skill_match",
        "confirmation_request",
        "confirmation_result",
        "ask_human",
        "error",
        "team_formed",
        "plan_update",
        "expert_step",
        "expert_result",
        "team_synthesis",
        "team_dissolved",
    }
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e_basic: the seed's basic WebSocket protocol tests")
    config.addinivalue_line("markers", "e2e: end-to-end tests against a running Conclave server")


def ws_base_url(base_url: str) -> str:
    """http://host:port -> ws://host:port (https -> wss)."""
    if base_url.startswith("https://"):
        return "wss://" + base_url[len("https://") :]
    if base_url.startswith("http://"):
        return "ws://" + base_url[len("http://") :]
    return base_url


# ─── events ────────────────────────────────────────────────────────────────


def is_run_end(event: dict, run_id: str | None = None) -> bool:
    """Whether ``event`` is the terminal event of a run (of ``run_id`` when given).

    ``run_in_progress`` rejects a second message; the running run goes on, so it never ends one.
    """
    if event.get("type") not in ("final_answer", "error") or event.get("run_id") is None:
        return False
    if event.get("type") == "error" and event.get("code") == "run_in_progress":
        return False
    return run_id is None or event.get("run_id") == run_id


def ends_message_wait(event: dict) -> bool:
    """What ends the wait after a ``message`` frame: its run ended (``final_answer`` or ``error``
    with ``run_id``), or the frame was refused (an ``error`` without ``run_id``, such as
    ``run_in_progress`` or ``invalid_message``)."""
    return event.get("type") in ("final_answer", "error")


def of_type(events: Iterable[dict], *types: str) -> list[dict]:
    return [e for e in events if e.get("type") in types]


def first_index(events: list[dict], *types: str) -> int | None:
    for i, e in enumerate(events):
        if e.get("type") in types:
            return i
    return None


def parse_ts(ts: str) -> datetime:
    """Parses an ISO 8601 timestamp, allowing .NET's 7 fractional digits."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)", ts)
    assert m, f"not an ISO 8601 timestamp with a zone: {ts!r}"
    frac = (m.group(2) or "")[:7]
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.fromisoformat(m.group(1) + frac + zone)


def assert_utc_ts(event: dict) -> None:
    ts = event.get("ts")
    assert isinstance(ts, str), f"event without ts: {event}"
    assert parse_ts(ts).utcoffset() == timezone.utc.utcoffset(None), f"ts not UTC: {ts}"


def assert_contiguous_ids(events: Iterable[dict], start: int | None = None) -> None:
    """The events that carry an ``event_id`` count up by exactly 1 (from ``start`` when given)."""
    ids = [e["event_id"] for e in events if "event_id" in e]
    assert ids, "no stored events"
    if start is not None:
        assert ids[0] == start, f"first event_id {ids[0]}, expected {start}: {ids}"
    assert ids == list(range(ids[0], ids[0] + len(ids))), f"event_ids not contiguous: {ids}"


# ─── WebSocket ─────────────────────────────────────────────────────────────

_WS_MAJOR = int(str(getattr(websockets, "__version__", "10")).split(".")[0])


def ws_connect(uri: str, *, origin: str | None = None, headers: dict[str, str] | None = None):
    """``websockets.connect`` for both the legacy (<14) and the new client API."""
    kwargs: dict[str, Any] = {"open_timeout": RECV_TIMEOUT, "max_size": None}
    if origin is not None:
        kwargs["origin"] = origin
    if headers:
        kwargs["additional_headers" if _WS_MAJOR >= 14 else "extra_headers"] = headers
    return websockets.connect(uri, **kwargs)


def rejected_status(exc: BaseException) -> int | None:
    """The HTTP status of a refused WebSocket upgrade, or None if ``exc`` is something else."""
    code = getattr(exc, "status_code", None)  # websockets < 14: InvalidStatusCode
    if code is None and getattr(exc, "response", None) is not None:  # >= 14: InvalidStatus
        code = getattr(exc.response, "status_code", None)
    return code


async def upgrade_status(uri: str, *, origin: str | None = None) -> int:
    """Tries to open ``uri``; returns the refusal's HTTP status, or 101 if it was accepted."""
    try:
        async with ws_connect(uri, origin=origin):
            return 101
    except (websockets.exceptions.InvalidHandshake, websockets.exceptions.InvalidStatus) as exc:
        code = rejected_status(exc)
        if code is None:
            raise
        return code


async def recv_json(ws, timeout: float = RECV_TIMEOUT) -> dict:
    """The next frame as a dict; fails the test after ``timeout`` seconds."""
    try:
        raw = await asyncio.wait_for(ws.recv(), timeout=timeout)
    except asyncio.TimeoutError:
        pytest.fail(f"no frame from the server within {timeout} s")
    event = json.loads(raw)
    assert isinstance(event, dict), f"frame is not a JSON object: {raw!r}"
    return event


async def recv_until(
    ws, predicate: Callable[[dict], bool], timeout: float = RUN_TIMEOUT, into: list[dict] | None = None
) -> list[dict]:
    """Receives frames until one satisfies ``predicate``; returns them all, that one last.

    Frames are also appended to ``into`` as they arrive, so a caller keeps what came before a failure.
    """
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            types = [e.get("type") for e in got]
            pytest.fail(f"no matching frame within {timeout} s; received {types}")
        event = await recv_json(ws, timeout=left)
        got.append(event)
        if into is not None:
            into.append(event)
        if predicate(event):
            return got


async def recv_quiet(ws, quiet: float = QUIET, limit: float = 5.0) -> list[dict]:
    """Receives frames until none arrives for ``quiet`` seconds (at most ``limit`` seconds in all)."""
    got: list[dict] = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            raw = await asyncio.wait_for(ws.recv(), timeout=min(quiet, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
        got.append(json.loads(raw))
    return got


class ChatSocket:
    """An open chat socket: the ``connected`` frame, and every frame received since, in order."""

    def __init__(self, ws, connected: dict):
        self.ws = ws
        self.connected = connected
        self.received: list[dict] = []

    async def send(self, frame: dict | str | bytes) -> None:
        """Sends a dict as JSON; a str or bytes frame is sent as it is (for bad-frame tests)."""
        await self.ws.send(json.dumps(frame) if isinstance(frame, dict) else frame)

    async def recv(self, timeout: float = RECV_TIMEOUT) -> dict:
        event = await recv_json(self.ws, timeout)
        self.received.append(event)
        return event

    async def recv_until(self, predicate: Callable[[dict], bool], timeout: float = RUN_TIMEOUT) -> list[dict]:
        return await recv_until(self.ws, predicate, timeout, into=self.received)

    async def recv_type(self, *types: str, timeout: float = RUN_TIMEOUT) -> dict:
        """Receives until a frame of one of ``types``; returns that frame."""
        return (await self.recv_until(lambda e: e.get("type") in types, timeout))[-1]

    async def recv_run_end(self, run_id: str | None = None, timeout: float = RUN_TIMEOUT) -> list[dict]:
        return await self.recv_until(lambda e: is_run_end(e, run_id), timeout)

    async def recv_quiet(self, quiet: float = QUIET, limit: float = 5.0) -> list[dict]:
        got = await recv_quiet(self.ws, quiet, limit)
        self.received.extend(got)
        return got

    async def ping(self, nonce: str | None = None) -> dict:
        """Sends a ping and returns the pong (frames before it stay in ``received``)."""
        await self.send({"type": "ping", **({"nonce": nonce} if nonce is not None else {})})
        return await self.recv_type("pong", timeout=RECV_TIMEOUT)

    async def chat(self, content: str, timeout: float = RUN_TIMEOUT, **fields: Any) -> list[dict]:
        """Sends a message and returns every frame up to and including its run's terminal event."""
        await self.send({"type": "message", "content": content, **fields})
        return await self.recv_until(ends_message_wait, timeout)


class WSChatHelper:
    """Opens chat sockets on the server under test (used by the seed test)."""

    def __init__(self, base_ws_url: str, api_key: str, run_timeout: float = RUN_TIMEOUT):
        self.base_ws_url = base_ws_url.rstrip("/")
        self.api_key = api_key
        self.run_timeout = run_timeout

    def url(self, session_id: str, *, api_key: str | None = None, last_event_id: int | None = None) -> str:
        key = self.api_key if api_key is None else api_key
        uri = f"{self.base_ws_url}/api/v1/chat/ws/{quote(session_id, safe='')}?api_key={quote(key, safe='')}"
        if last_event_id is not None:
            uri += f"&last_event_id={last_event_id}"
        return uri

    @contextlib.asynccontextmanager
    async def open(
        self,
        session_id: str,
        *,
        api_key: str | None = None,
        last_event_id: int | None = None,
        origin: str | None = None,
    ) -> AsyncIterator[ChatSocket]:
        """Opens a socket, reads its ``connected`` frame, and yields a ``ChatSocket``."""
        async with ws_connect(self.url(session_id, api_key=api_key, last_event_id=last_event_id), origin=origin) as ws:
            connected = await recv_json(ws)
            assert connected.get("type") == "connected", f"first frame is not connected: {connected}"
            yield ChatSocket(ws, connected)

    async def connect_and_chat(self, session_id: str, frames: list[dict], *, quiet: float = QUIET) -> list[dict]:
        """Connects, reads ``connected``, sends each frame, and returns every event received.

        After a ``message`` it reads until that run ends (``final_answer``, or an ``error``) or the
        message is refused (an ``error`` without ``run_id``); a run that waits on the user
        (confirmation, ask_human) therefore needs ``open()`` instead. After any other frame it
        collects what arrives until the socket is quiet for ``quiet`` seconds.
        """
        async with self.open(session_id) as sock:
            for frame in frames:
                await sock.send(frame)
                if isinstance(frame, dict) and frame.get("type") == "message":
                    await sock.recv_until(ends_message_wait, self.run_timeout)
                else:
                    await sock.recv_quiet(quiet)
            return [sock.connected, *sock.received]


# ─── REST ──────────────────────────────────────────────────────────────────


def make_client(api_key: str | None) -> httpx.Client:
    """An HTTP client on the server under test; ``api_key=None`` sends no key."""
    headers = {} if api_key is None else {"X-API-Key": api_key}
    return httpx.Client(base_url=BASE_URL, headers=headers, timeout=RECV_TIMEOUT)


def create_session_via_api(api_client: httpx.Client, title: str | None = None) -> str:
    """Creates a session and returns its id."""
    resp = api_client.post("/api/v1/sessions", json={"title": title or "e2e"})
    assert resp.status_code == 201, f"POST /api/v1/sessions: {resp.status_code} {resp.text}"
    session_id = resp.json()["id"]
    assert isinstance(session_id, str) and session_id
    return session_id


def register_skill_via_api(
    api_client: httpx.Client,
    name: str,
    keywords: list[str] | None = None,
    description: str | None = None,
    instructions: str | None = None,
) -> dict:
    """Registers a skill; an existing skill of that name is replaced (PUT)."""
    body = {
        "name": name,
        "description": description or f"e2e skill {name}",
        "keywords": list(keywords or []),
        "instructions": instructions or f"Instructions of the e2e skill {name}.",
        "tools": [],
    }
    resp = api_client.post("/api/v1/skills", json=body)
    if resp.status_code == 409:
        resp = api_client.put(f"/api/v1/skills/{quote(name, safe='')}", json=body)
        assert resp.status_code == 200, f"PUT /api/v1/skills/{name}: {resp.status_code} {resp.text}"
    else:
        assert resp.status_code == 201, f"POST /api/v1/skills: {resp.status_code} {resp.text}"
    return resp.json() if resp.content else body


def create_tenant_via_api(api_client: httpx.Client, name: str | None = None) -> dict:
    """Creates an API key (a tenant) with the admin client; returns ``{id, name, key}``."""
    name = name or f"e2e-tenant-{uuid.uuid4().hex[:8]}"
    resp = api_client.post("/api/v1/api-keys", json={"name": name})
    assert resp.status_code == 201, f"POST /api/v1/api-keys: {resp.status_code} {resp.text}"
    tenant = resp.json()
    assert tenant.get("name") == name and tenant.get("id") and tenant.get("key"), tenant
    return tenant


def get_events_via_api(api_client: httpx.Client, session_id: str, after: int = 0) -> list[dict]:
    """The stored events of a session with ``event_id > after`` (GET .../events?after=N)."""
    resp = api_client.get(f"/api/v1/sessions/{session_id}/events", params={"after": after})
    assert resp.status_code == 200, f"GET events: {resp.status_code} {resp.text}"
    body = resp.json()
    assert isinstance(body, list), f"events answer is not a JSON array: {body!r}"
    return body


# ─── fixtures ──────────────────────────────────────────────────────────────


@pytest.fixture(scope="session", autouse=True)
def conclave_server() -> str:
    """The base URL of the server under test; skips the suite when none is configured."""
    if not BASE_URL:
        pytest.skip("CONCLAVE_BASE_URL is not set (./test.sh starts a server and sets it)")
    try:
        resp = httpx.get(f"{BASE_URL}/healthz", timeout=RECV_TIMEOUT)
    except httpx.HTTPError as exc:
        pytest.fail(f"Conclave server at {BASE_URL} does not answer: {exc}")
    assert resp.status_code == 200, f"GET /healthz: {resp.status_code}"
    return BASE_URL


@pytest.fixture(scope="session")
def api_client(conclave_server: str) -> Iterable[httpx.Client]:
    """An HTTP client on the server under test with the admin key (X-API-Key)."""
    with make_client(API_KEY) as client:
        yield client


@pytest.fixture
def ws_helper(conclave_server: str) -> WSChatHelper:
    return WSChatHelper(ws_base_url(conclave_server), API_KEY)


@pytest.fixture
def session_id(api_client: httpx.Client) -> str:
    """A fresh session of the admin tenant."""
    return create_session_via_api(api_client)


@pytest.fixture
def tenant(api_client: httpx.Client) -> Iterable[dict]:
    """A second tenant: ``{id, name, key}``; its key is revoked afterwards."""
    created = create_tenant_via_api(api_client)
    yield created
    api_client.delete(f"/api/v1/api-keys/{created['id']}")


@pytest.fixture
def tenant_client(tenant: dict) -> Iterable[httpx.Client]:
    with make_client(tenant["key"]) as client:
        yield client
