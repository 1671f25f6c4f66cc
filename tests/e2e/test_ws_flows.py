"""End-to-end flows of the WebSocket chat protocol (PROTOCOL.md §3), driven through the builtin
model (§4) and the built-in tools (§5). The server runs with Conclave__Llm__Builtin__TokenDelayMs=1.
"""

from __future__ import annotations

import time
import uuid

import pytest

from tests.e2e.conftest import (
    SERVER_TYPES,
    WSChatHelper,
    assert_contiguous_ids,
    assert_utc_ts,
    create_session_via_api,
    first_index,
    get_events_via_api,
    of_type,
    parse_ts,
    register_skill_via_api,
    upgrade_status,
)

pytestmark = pytest.mark.e2e

CANCEL_LIMIT = 1.0  # seconds: "cancel ends the active run with error cancelled within 1 s"
WRITE_A_TXT = 'use tool write_file {"path": "a.txt", "content": "hi"}'
READ_A_TXT = 'use tool read_file {"path": "a.txt"}'


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(1, n + 1))


def run_events(events: list[dict]) -> list[dict]:
    return [e for e in events if e.get("run_id") is not None]


def assert_well_formed(events: list[dict]) -> None:
    for e in events:
        assert e.get("type") in SERVER_TYPES, f"unknown event type: {e}"
        assert_utc_ts(e)


# ═══ 1. Connection lifecycle ════════════════════════════════════════════════


class TestConnectionLifecycle:
    @pytest.mark.asyncio
    async def test_connected_describes_a_fresh_session(self, ws_helper: WSChatHelper, session_id: str):
        async with ws_helper.open(session_id) as sock:
            c = sock.connected
        assert c["session_id"] == session_id
        assert c["protocol"] == 1
        assert c.get("server"), c
        assert c["last_event_id"] == 0
        assert c["active_run_id"] is None
        assert c["pending"] == []
        assert "event_id" not in c and "run_id" not in c
        assert_utc_ts(c)

    @pytest.mark.asyncio
    async def test_ping_gets_pong_with_nonce_and_is_not_stored(self, ws_helper, api_client, session_id):
        async with ws_helper.open(session_id) as sock:
            pong = await sock.ping(nonce="n-42")
            assert pong["nonce"] == "n-42"
            assert "event_id" not in pong and "run_id" not in pong
            assert_utc_ts(pong)
            bare = await sock.ping()
            assert bare["type"] == "pong" and "event_id" not in bare
            assert sock.received == [pong, bare]
        assert get_events_via_api(api_client, session_id) == []

    @pytest.mark.asyncio
    async def test_reconnect_reports_newest_event_and_no_active_run(self, ws_helper: WSChatHelper, session_id):
        async with ws_helper.open(session_id) as sock:
            events = await sock.chat("stream 2 words")
        final = events[-1]
        assert final["type"] == "final_answer"
        async with ws_helper.open(session_id) as sock:
            assert sock.connected["last_event_id"] == final["event_id"]
            assert sock.connected["active_run_id"] is None
            assert sock.connected["pending"] == []
            # Without last_event_id nothing is replayed.
            assert await sock.recv_quiet() == []

    @pytest.mark.asyncio
    async def test_upgrade_without_key_or_with_wrong_key_is_refused_with_401(self, ws_helper, session_id):
        no_key = f"{ws_helper.base_ws_url}/api/v1/chat/ws/{session_id}"
        assert await upgrade_status(no_key) == 401
        assert await upgrade_status(ws_helper.url(session_id, api_key="wrong-" + uuid.uuid4().hex)) == 401

    @pytest.mark.asyncio
    async def test_upgrade_to_unknown_session_is_refused_with_404(self, ws_helper: WSChatHelper):
        assert await upgrade_status(ws_helper.url("unknown-" + uuid.uuid4().hex)) == 404

    @pytest.mark.asyncio
    async def test_upgrade_from_foreign_origin_is_refused_with_403(self, ws_helper: WSChatHelper, session_id):
        url = ws_helper.url(session_id)
        assert await upgrade_status(url, origin="http://evil.example") == 403
        own = "http" + ws_helper.base_ws_url[len("ws") :]
        assert await upgrade_status(url, origin=own) == 101


# ═══ 2. A streamed message ══════════════════════════════════════════════════


class TestStreamedMessage:
    @pytest.mark.asyncio
    async def test_stream_five_words_sends_five_tokens_then_the_whole_answer(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            events = await sock.chat("stream 5 words")
            assert await sock.recv_quiet() == [], "events after the terminal event"
        assert_well_formed(events)
        final = events[-1]
        assert final["type"] == "final_answer", events
        assert final["content"] == "word1 word2 word3 word4 word5"
        assert final["finish_reason"]
        assert isinstance(final["usage"]["input_tokens"], int)
        assert isinstance(final["usage"]["output_tokens"], int)

        tokens = of_type(events, "token")
        assert len(tokens) == 5
        assert [t["content"].strip() for t in tokens] == [f"word{i}" for i in range(1, 6)]
        assert "".join(t["content"] for t in tokens) == final["content"]

        thinking = of_type(events, "thinking")
        assert len(thinking) == 1 and thinking[0]["content"]
        assert first_index(events, "thinking") < first_index(events, "token")

        # Every event is stored and belongs to the run; ids count 1, 2, 3, ... in a fresh session.
        assert all(e.get("run_id") == final["run_id"] for e in events)
        assert_contiguous_ids(events, start=1)
        stamps = [parse_ts(e["ts"]) for e in events]
        assert stamps == sorted(stamps)

    @pytest.mark.asyncio
    async def test_history_holds_the_message_and_the_answer(self, ws_helper, api_client, session_id):
        async with ws_helper.open(session_id) as sock:
            final = (await sock.chat("stream 3 words"))[-1]
        resp = api_client.get(f"/api/v1/sessions/{session_id}/messages")
        assert resp.status_code == 200, resp.text
        history = resp.json()
        assert [(m["role"], m["content"]) for m in history if m["role"] != "tool"] == [
            ("user", "stream 3 words"),
            ("assistant", "word1 word2 word3"),
        ]
        assert all(m["run_id"] == final["run_id"] for m in history)

    @pytest.mark.asyncio
    async def test_message_during_a_run_gets_run_in_progress_and_the_run_goes_on(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            await sock.send({"type": "message", "content": "stream 300 words"})
            run_id = (await sock.recv_type("token"))["run_id"]
            await sock.send({"type": "message", "content": "stream 2 words"})
            rest = await sock.recv_run_end(run_id)
            refusals = [e for e in rest if e["type"] == "error" and e.get("code") == "run_in_progress"]
            assert len(refusals) == 1, rest
            assert rest[-1]["type"] == "final_answer"
            assert rest[-1]["content"] == words(300)
            # The refused message did not start a run of its own.
            assert await sock.recv_quiet() == []


# ═══ 3. Confirmation ════════════════════════════════════════════════════════


class TestConfirmation:
    @staticmethod
    async def request_write(sock) -> dict:
        await sock.send({"type": "message", "content": WRITE_A_TXT})
        req = await sock.recv_type("confirmation_request")
        assert req["request_id"] and req["run_id"]
        assert req["tool"] == "write_file"
        assert req["arguments"] == {"path": "a.txt", "content": "hi"}
        assert isinstance(req["reason"], str)
        assert parse_ts(req["expires_at"]) > parse_ts(req["ts"])
        # Nothing is executed before the reply.
        ran = [e for e in sock.received if e["type"] == "step" and e["phase"] == "end"]
        assert not [e for e in ran if e.get("run_id") == req["run_id"]], ran
        return req

    @pytest.mark.asyncio
    async def test_approved_write_file_runs_and_the_model_reports_its_result(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            req = await self.request_write(sock)
            await sock.send({"type": "confirmation_reply", "request_id": req["request_id"], "approved": True})
            events = await sock.recv_run_end(req["run_id"])
            result = of_type(events, "confirmation_result")
            assert len(result) == 1
            assert result[0]["request_id"] == req["request_id"]
            assert result[0]["approved"] is True and result[0]["by"] == "user"
            ends = [e for e in events if e["type"] == "step" and e["phase"] == "end" and e["tool"] == "write_file"]
            assert len(ends) == 1 and "error" not in ends[0], ends
            assert first_index(events, "confirmation_result") < events.index(ends[0])
            assert events[-1]["type"] == "final_answer"
            assert events[-1]["content"].startswith("Tool write_file returned:")

            read = (await sock.chat(READ_A_TXT))[-1]
            assert read["content"].startswith("Tool read_file returned:") and "hi" in read["content"], read

    @pytest.mark.asyncio
    async def test_denied_write_file_is_not_run_and_the_model_is_told(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            req = await self.request_write(sock)
            await sock.send(
                {"type": "confirmation_reply", "request_id": req["request_id"], "approved": False, "reason": "no"}
            )
            events = await sock.recv_run_end(req["run_id"])
            result = of_type(events, "confirmation_result")
            assert len(result) == 1
            assert result[0]["request_id"] == req["request_id"]
            assert result[0]["approved"] is False and result[0]["by"] == "user"
            assert not [e for e in events if e["type"] == "step" and e["phase"] == "end" and "result" in e]
            assert events[-1]["type"] == "final_answer"
            assert events[-1]["content"].startswith("Tool write_file was not run:")

            read = (await sock.chat(READ_A_TXT))[-1]
            assert read["content"].startswith("Tool read_file was not run:"), read

    @pytest.mark.asyncio
    async def test_second_socket_sees_the_pending_request_and_may_approve_it(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as first:
            req = await self.request_write(first)
            async with ws_helper.open(session_id) as second:
                assert second.connected["active_run_id"] == req["run_id"]
                pending = second.connected["pending"]
                assert [(p["type"], p["request_id"], p["event_id"]) for p in pending] == [
                    ("confirmation_request", req["request_id"], req["event_id"])
                ]
                await second.send({"type": "confirmation_reply", "request_id": req["request_id"], "approved": True})
                seen_by_second = await second.recv_run_end(req["run_id"])
            seen_by_first = await first.recv_run_end(req["run_id"])
        assert seen_by_first == seen_by_second
        assert seen_by_first[-1]["content"].startswith("Tool write_file returned:")

    @pytest.mark.asyncio
    async def test_reply_to_a_request_that_is_not_pending_is_unknown_request(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            await sock.send({"type": "confirmation_reply", "request_id": "no-such-request", "approved": True})
            err = await sock.recv()
            assert err["type"] == "error" and err["code"] == "unknown_request"
            assert (await sock.ping())["type"] == "pong"


# ═══ 4. ask_human ═══════════════════════════════════════════════════════════


class TestAskHuman:
    @pytest.mark.asyncio
    async def test_reply_resumes_the_run_with_the_answer(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            await sock.send({"type": "message", "content": "ask me: what colour?"})
            ask = await sock.recv_type("ask_human")
            assert ask["request_id"] and ask["run_id"]
            assert ask["question"] == "what colour?"
            await sock.send({"type": "reply", "request_id": ask["request_id"], "content": "blue"})
            events = await sock.recv_run_end(ask["run_id"])
            assert events[-1]["type"] == "final_answer"
            assert events[-1]["content"] == "You answered: blue"
        assert_contiguous_ids(sock.received, start=1)

    @pytest.mark.asyncio
    async def test_reply_with_a_wrong_request_id_leaves_the_question_open(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            await sock.send({"type": "message", "content": "ask me: what colour?"})
            ask = await sock.recv_type("ask_human")
            await sock.send({"type": "reply", "request_id": "not-" + ask["request_id"], "content": "red"})
            err = await sock.recv_type("error")
            assert err["code"] == "unknown_request"
            await sock.send({"type": "reply", "request_id": ask["request_id"], "content": "green"})
            events = await sock.recv_run_end(ask["run_id"])
            assert events[-1]["content"] == "You answered: green"


# ═══ 5. Cancel ══════════════════════════════════════════════════════════════


async def cancel_and_time(sock, run_id: str, frame: dict | None = None) -> tuple[dict, float]:
    started = time.monotonic()
    await sock.send(frame or {"type": "cancel"})
    end = (await sock.recv_run_end(run_id, timeout=10))[-1]
    return end, time.monotonic() - started


def assert_cancelled(end: dict, elapsed: float) -> None:
    assert end["type"] == "error" and end["code"] == "cancelled", end
    assert "usage" in end and isinstance(end["retryable"], bool)
    assert elapsed < CANCEL_LIMIT, f"cancel took {elapsed:.3f} s"


class TestCancel:
    @pytest.mark.asyncio
    async def test_cancel_during_a_long_stream_ends_the_run_within_a_second(self, ws_helper, api_client, session_id):
        async with ws_helper.open(session_id) as sock:
            await sock.send({"type": "message", "content": "stream 2000 words"})
            run_id = (await sock.recv_type("token"))["run_id"]
            end, elapsed = await cancel_and_time(sock, run_id)
            assert_cancelled(end, elapsed)
            assert not [e for e in await sock.recv_quiet() if e.get("run_id") == run_id], "events after cancelled"
            assert len(of_type(sock.received, "token")) < 2000

            # The session takes a new message at once.
            final = (await sock.chat("stream 2 words"))[-1]
            assert final["type"] == "final_answer" and final["content"] == "word1 word2"
        stored = get_events_via_api(api_client, session_id)
        assert [e for e in stored if e.get("run_id") == run_id][-1] == end

    @pytest.mark.asyncio
    async def test_cancel_with_explicit_run_id(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            await sock.send({"type": "message", "content": "stream 2000 words"})
            run_id = (await sock.recv_type("token"))["run_id"]
            end, elapsed = await cancel_and_time(sock, run_id, {"type": "cancel", "run_id": run_id})
            assert_cancelled(end, elapsed)

    @pytest.mark.asyncio
    async def test_cancel_while_waiting_for_ask_human(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            await sock.send({"type": "message", "content": "ask me: stay or go?"})
            ask = await sock.recv_type("ask_human")
            end, elapsed = await cancel_and_time(sock, ask["run_id"])
            assert_cancelled(end, elapsed)
            await sock.send({"type": "reply", "request_id": ask["request_id"], "content": "late"})
            assert (await sock.recv_type("error"))["code"] == "unknown_request"

    @pytest.mark.asyncio
    async def test_cancel_while_waiting_for_confirmation_does_not_run_the_tool(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            req = await TestConfirmation.request_write(sock)
            end, elapsed = await cancel_and_time(sock, req["run_id"])
            assert_cancelled(end, elapsed)
            read = (await sock.chat(READ_A_TXT))[-1]
            assert read["content"].startswith("Tool read_file was not run:"), read

    @pytest.mark.asyncio
    async def test_cancel_without_an_active_run_is_no_active_run(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            await sock.send({"type": "cancel"})
            err = await sock.recv()
            assert err["type"] == "error" and err["code"] == "no_active_run"
            assert (await sock.ping())["type"] == "pong"


# ═══ 6. Calculator ══════════════════════════════════════════════════════════


class TestCalculator:
    @pytest.mark.asyncio
    async def test_arithmetic_calls_calculator_and_answers(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            events = await sock.chat("12*(3+4)")
        assert_well_formed(events)
        steps = [e for e in events if e["type"] == "step" and e["tool"] == "calculator"]
        assert [s["phase"] for s in steps] == ["start", "end"], steps
        start, end = steps
        assert start["step"] == end["step"] == 1
        assert start["arguments"]["expression"].replace(" ", "") == "12*(3+4)"
        assert "error" not in end and "84" in str(end["result"]), end
        assert events[-1]["type"] == "final_answer"
        assert events[-1]["content"] == "The answer is 84."
        assert_contiguous_ids(events, start=1)


# ═══ 7. Skill match ═════════════════════════════════════════════════════════


class TestSkillMatch:
    @pytest.mark.asyncio
    async def test_skill_match_comes_before_the_first_thinking_or_token(self, ws_helper, api_client, session_id):
        keyword = "zq" + uuid.uuid4().hex[:10]
        name = "e2e_skill_" + keyword
        register_skill_via_api(api_client, name, keywords=[keyword])
        async with ws_helper.open(session_id) as sock:
            events = await sock.chat(f"please help with {keyword} today")
        matches = [e for e in events if e["type"] == "skill_match" and e["skill"] == name]
        assert len(matches) == 1, events
        match = matches[0]
        assert 0 < match["score"] <= 1
        assert keyword in match["matched"]
        first_output = first_index(events, "thinking", "token")
        assert first_output is not None and events.index(match) < first_output
        assert events[-1]["type"] == "final_answer"

    @pytest.mark.asyncio
    async def test_no_skill_match_without_its_keyword(self, ws_helper, api_client, session_id):
        keyword = "zq" + uuid.uuid4().hex[:10]
        name = "e2e_skill_" + keyword
        register_skill_via_api(api_client, name, keywords=[keyword])
        async with ws_helper.open(session_id) as sock:
            events = await sock.chat("stream 2 words")
        assert not [e for e in events if e["type"] == "skill_match" and e["skill"] == name]


# ═══ 8. Resume with last_event_id ═══════════════════════════════════════════


class TestResume:
    @pytest.mark.asyncio
    async def test_reconnect_replays_exactly_the_events_after_last_event_id(self, ws_helper, api_client, session_id):
        async with ws_helper.open(session_id) as sock:
            events = await sock.chat("stream 5 words")
        assert_contiguous_ids(events, start=1)
        after = events[2]["event_id"]
        expected = [e for e in events if e["event_id"] > after]

        async with ws_helper.open(session_id, last_event_id=after) as sock:
            assert sock.connected["last_event_id"] == events[-1]["event_id"]
            replayed = await sock.recv_quiet()
        assert replayed == expected
        assert get_events_via_api(api_client, session_id, after=after) == expected
        assert get_events_via_api(api_client, session_id) == events

        async with ws_helper.open(session_id, last_event_id=events[-1]["event_id"]) as sock:
            assert await sock.recv_quiet() == []
        async with ws_helper.open(session_id, last_event_id=0) as sock:
            assert await sock.recv_quiet() == events

    @pytest.mark.asyncio
    async def test_reconnect_during_a_run_joins_replay_and_live_events_without_gap(
        self, ws_helper, api_client, session_id
    ):
        async with ws_helper.open(session_id) as sock:
            await sock.send({"type": "message", "content": "stream 500 words"})
            seen = await sock.recv_until(lambda e: e["type"] == "token")
        run_id = seen[-1]["run_id"]
        last_seen = seen[-1]["event_id"]
        # The run goes on without a socket; the new socket first gets what it missed, then live events.
        async with ws_helper.open(session_id, last_event_id=last_seen) as sock:
            assert sock.connected["active_run_id"] in (run_id, None)
            rest = await sock.recv_run_end(run_id)
        assert_contiguous_ids(rest, start=last_seen + 1)
        whole = seen + rest
        assert_contiguous_ids(whole, start=1)
        assert whole[-1]["type"] == "final_answer" and whole[-1]["content"] == words(500)
        assert "".join(e["content"] for e in of_type(whole, "token")) == words(500)
        assert get_events_via_api(api_client, session_id, after=last_seen) == rest


# ═══ 9. Bad frames ══════════════════════════════════════════════════════════

BAD_FRAMES = [
    pytest.param("not json", "invalid_json", id="not-json"),
    pytest.param('{"type": "message", "content": "x"', "invalid_json", id="truncated-json"),
    pytest.param("[1, 2]", "invalid_message", id="array"),
    pytest.param('"ping"', "invalid_message", id="string"),
    pytest.param('{"content": "x"}', "invalid_message", id="no-type"),
    pytest.param('{"type": 5}', "invalid_message", id="type-not-string"),
    pytest.param(b'{"type": "ping"}', "invalid_message", id="binary-frame"),
    pytest.param('{"type": "frobnicate"}', "unknown_type", id="unknown-type"),
    pytest.param('{"type": "message"}', "invalid_message", id="message-without-content"),
    pytest.param('{"type": "message", "content": ""}', "invalid_message", id="message-empty-content"),
    pytest.param('{"type": "message", "content": 42}', "invalid_message", id="message-content-not-string"),
    pytest.param(
        '{"type": "confirmation_reply", "request_id": "r1", "approved": "yes"}',
        "invalid_message",
        id="confirmation-approved-not-bool",
    ),
    pytest.param('{"type": "reply", "request_id": "r1"}', "invalid_message", id="reply-without-content"),
]


class TestBadFrames:
    @pytest.mark.asyncio
    @pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
    async def test_bad_frame_gets_an_error_and_the_socket_stays_open(
        self, ws_helper, api_client, session_id, frame, code
    ):
        async with ws_helper.open(session_id) as sock:
            await sock.send(frame)
            err = await sock.recv()
            assert err["type"] == "error" and err["code"] == code, err
            assert "event_id" not in err and "run_id" not in err
            assert isinstance(err["message"], str) and isinstance(err["retryable"], bool)
            pong = await sock.ping(nonce="still-open")
            assert pong["nonce"] == "still-open"
            assert sock.received == [err, pong]
        assert get_events_via_api(api_client, session_id) == []

    @pytest.mark.asyncio
    async def test_session_still_chats_after_bad_frames(self, ws_helper, session_id):
        async with ws_helper.open(session_id) as sock:
            for raw in ("not json", '{"type": "frobnicate"}', '{"type": "message"}'):
                await sock.send(raw)
                assert (await sock.recv())["type"] == "error"
            events = await sock.chat("stream 2 words")
        assert events[-1]["content"] == "word1 word2"
        assert_contiguous_ids(events, start=1)


# ═══ connect_and_chat itself ════════════════════════════════════════════════


class TestConnectAndChat:
    @pytest.mark.asyncio
    async def test_collects_runs_and_other_frames_in_order(self, ws_helper: WSChatHelper, api_client):
        session_id = create_session_via_api(api_client)
        events = await ws_helper.connect_and_chat(
            session_id,
            [
                {"type": "ping", "nonce": "a"},
                {"type": "message", "content": "stream 2 words"},
                {"type": "message", "content": "12*(3+4)"},
                {"type": "cancel"},
            ],
        )
        types = [e["type"] for e in events]
        assert types[:2] == ["connected", "pong"]
        finals = of_type(events, "final_answer")
        assert [f["content"] for f in finals] == ["word1 word2", "The answer is 84."]
        assert events[-1]["type"] == "error" and events[-1]["code"] == "no_active_run"
        assert_contiguous_ids(run_events(events), start=1)
