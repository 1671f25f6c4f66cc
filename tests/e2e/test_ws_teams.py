"""End-to-end flow of expert teams (PROTOCOL.md §3.3 and §4): team_formed → plan_update →
expert_step → expert_result → team_synthesis → team_dissolved → final_answer, played by the
builtin model (planner: research and analysis in parallel, then writing)."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import (
    WSChatHelper,
    assert_contiguous_ids,
    get_events_via_api,
    of_type,
    register_skill_via_api,
)

pytestmark = pytest.mark.e2e

TASKS = {"research": "researcher", "analysis": "analyst", "writing": "writer"}


def statuses(plan_update: dict) -> dict[str, str]:
    return {t["task_id"]: t["status"] for t in plan_update["plan"]}


@pytest.mark.asyncio
async def test_team_run_events_in_order(ws_helper: WSChatHelper, api_client, session_id):
    async with ws_helper.open(session_id) as sock:
        events = await sock.chat("/team stream 4 words")

    types = [e["type"] for e in events]
    assert types[0] == "team_formed"
    assert types[-3:] == ["team_synthesis", "team_dissolved", "final_answer"]
    assert_contiguous_ids(events, start=1)
    team_id = events[0]["team_id"]
    assert events[0]["goal"] == "stream 4 words"
    assert {e["name"] for e in events[0]["experts"]} == set(TASKS.values())
    for e in events[:-1]:
        assert e.get("team_id") == team_id, e

    plans = [statuses(p) for p in of_type(events, "plan_update")]
    assert plans[0] == {t: "pending" for t in TASKS}
    assert plans[-1] == {t: "done" for t in TASKS}
    results = {r["task_id"]: r for r in of_type(events, "expert_result")}
    assert set(results) == set(TASKS)
    for task, expert in TASKS.items():
        assert results[task]["expert"] == expert
        assert results[task]["content"] == "word1 word2 word3 word4"
        steps = [s for s in of_type(events, "expert_step") if s["task_id"] == task]
        assert len(steps) >= 2 and {s["kind"] for s in steps} <= {"thinking", "token", "tool"}

    # writing depends on research and analysis: it starts only after both are done
    first_writing = next(i for i, e in enumerate(events) if e["type"] == "expert_step" and e["task_id"] == "writing")
    done_both = max(i for i, e in enumerate(events) if e["type"] == "expert_result" and e["task_id"] in ("research", "analysis"))
    assert first_writing > done_both

    synthesis = events[-3]["content"]
    for task in TASKS:
        assert task in synthesis
    assert events[-2]["reason"] == "completed"
    assert events[-1]["content"] == synthesis
    assert get_events_via_api(api_client, session_id) == events


@pytest.mark.asyncio
async def test_team_by_mode_and_by_skill(ws_helper: WSChatHelper, api_client, session_id):
    register_skill_via_api(api_client, "e2e_team_skill", keywords=["assemble"])
    api_client.put(
        "/api/v1/skills/e2e_team_skill",
        json={"description": "teams", "keywords": ["assemble"], "instructions": "Work together.", "mode": "team"},
    ).raise_for_status()
    async with ws_helper.open(session_id) as sock:
        by_mode = await sock.chat("stream 2 words", mode="team")
        by_skill = await sock.chat("assemble: stream 2 words")
    assert by_mode[0]["type"] == "team_formed"
    assert [e["type"] for e in by_skill[:2]] == ["skill_match", "team_formed"]
    assert by_skill[-1]["type"] == "final_answer"


@pytest.mark.asyncio
async def test_cancel_a_team(ws_helper: WSChatHelper, session_id):
    async with ws_helper.open(session_id) as sock:
        await sock.send({"type": "message", "content": "/team stream 3000 words"})
        await sock.recv_until(lambda e: e["type"] == "expert_step" and e["kind"] == "token")
        started = time.monotonic()
        await sock.send({"type": "cancel"})
        rest = await sock.recv_run_end()
        elapsed = time.monotonic() - started

    assert elapsed < 1.0
    assert [e["type"] for e in rest[-3:]] == ["plan_update", "team_dissolved", "error"]
    assert set(statuses(rest[-3]).values()) == {"cancelled"}
    assert rest[-2]["reason"] == "cancelled"
    assert rest[-1]["code"] == "cancelled"


@pytest.mark.asyncio
async def test_resume_in_the_middle_of_a_team(ws_helper: WSChatHelper, session_id):
    seen: list[dict] = []
    async with ws_helper.open(session_id) as sock:
        await sock.send({"type": "message", "content": "/team stream 200 words"})
        seen += await sock.recv_until(lambda e: e["type"] == "expert_result")
    async with ws_helper.open(session_id, last_event_id=seen[-1]["event_id"]) as sock:
        seen += await sock.recv_run_end()

    assert_contiguous_ids(seen, start=1)
    assert len(of_type(seen, "expert_result")) == 3
    assert seen[-1]["type"] == "final_answer"


def test_experts_api(api_client):
    listed = api_client.get("/api/v1/experts").json()
    assert [e["name"] for e in listed][:4] == ["researcher", "analyst", "writer", "critic"]
    created = api_client.put(
        "/api/v1/experts/e2e_poet", json={"role": "Writes verse", "instructions": "Rhyme.", "tools": ["calculator"]}
    )
    assert created.status_code == 200
    assert api_client.get("/api/v1/experts/e2e_poet").json()["role"] == "Writes verse"
    assert api_client.delete("/api/v1/experts/e2e_poet").status_code == 204
    assert api_client.get("/api/v1/experts/e2e_poet").status_code == 404
    assert api_client.delete("/api/v1/experts/critic").status_code == 409
