"""End-to-end tests of the REST API (PROTOCOL.md §1 and §2): auth, sessions, skills, tools, and
tenant isolation over REST and the WebSocket upgrade."""

from __future__ import annotations

import uuid

import httpx
import pytest
import websockets.exceptions

from tests.e2e.conftest import (
    API_KEY,
    BASE_URL,
    WSChatHelper,
    create_session_via_api,
    make_client,
    recv_json,
    register_skill_via_api,
    upgrade_status,
)

pytestmark = pytest.mark.e2e


def assert_problem(resp: httpx.Response, status: int) -> None:
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
    assert resp.headers.get("content-type", "").startswith("application/problem+json"), resp.headers
    assert resp.json().get("status") == status


# ═══ operator endpoints ═════════════════════════════════════════════════════


def test_health_and_readiness_answer_without_a_key():
    with make_client(None) as anon:
        assert anon.get("/healthz").status_code == 200
        assert anon.get("/readyz").status_code == 200


def test_openapi_description_is_served(api_client):
    resp = api_client.get("/openapi/v1.json")
    assert resp.status_code == 200
    paths = resp.json()["paths"]
    assert "/api/v1/sessions" in paths


# ═══ auth ═══════════════════════════════════════════════════════════════════


def test_missing_or_wrong_key_gets_401_problem():
    with make_client(None) as anon:
        assert_problem(anon.get("/api/v1/sessions"), 401)
        assert_problem(anon.post("/api/v1/sessions", json={}), 401)
    with make_client("wrong-" + uuid.uuid4().hex) as wrong:
        assert_problem(wrong.get("/api/v1/sessions"), 401)


def test_bearer_token_is_accepted_like_x_api_key():
    with httpx.Client(base_url=BASE_URL, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10) as bearer:
        assert bearer.get("/api/v1/sessions").status_code == 200


# ═══ sessions ═══════════════════════════════════════════════════════════════


def test_created_session_is_listed_newest_first_and_readable(api_client):
    first = create_session_via_api(api_client, title="older")
    resp = api_client.post("/api/v1/sessions", json={"title": "newer"})
    assert resp.status_code == 201
    second = resp.json()
    assert second["title"] == "newer" and second["id"] and second["created_at"]

    got = api_client.get(f"/api/v1/sessions/{second['id']}")
    assert got.status_code == 200 and got.json()["id"] == second["id"]

    listed = api_client.get("/api/v1/sessions", params={"limit": 100})
    assert listed.status_code == 200
    body = listed.json()
    items = body if isinstance(body, list) else body["items"]
    ids = [s["id"] for s in items]
    assert second["id"] in ids and first in ids
    assert ids.index(second["id"]) < ids.index(first)


@pytest.mark.parametrize("suffix", ["", "/messages", "/events?after=0"])
def test_unknown_session_is_404(api_client, suffix):
    assert_problem(api_client.get(f"/api/v1/sessions/unknown-{uuid.uuid4().hex}{suffix}"), 404)


def test_deleting_an_unknown_session_is_404(api_client):
    assert_problem(api_client.delete(f"/api/v1/sessions/unknown-{uuid.uuid4().hex}"), 404)


@pytest.mark.asyncio
async def test_deleting_a_session_closes_its_sockets_and_forgets_it(ws_helper: WSChatHelper, api_client):
    session_id = create_session_via_api(api_client)
    async with ws_helper.open(session_id) as sock:
        assert api_client.delete(f"/api/v1/sessions/{session_id}").status_code == 204
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            while True:  # whatever comes before the close (e.g. the end of a run) is fine
                await recv_json(sock.ws, timeout=5)
    assert_problem(api_client.get(f"/api/v1/sessions/{session_id}"), 404)
    assert await upgrade_status(ws_helper.url(session_id)) == 404


# ═══ skills and tools ═══════════════════════════════════════════════════════


def test_skill_lifecycle(api_client):
    name = "e2e_rest_skill_" + uuid.uuid4().hex[:8]
    body = {"name": name, "description": "d", "keywords": ["k1"], "instructions": "i", "tools": []}
    assert api_client.post("/api/v1/skills", json=body).status_code == 201
    assert_problem(api_client.post("/api/v1/skills", json=body), 409)
    put = api_client.put(f"/api/v1/skills/{name}", json={**body, "keywords": ["k2"]})
    assert put.status_code == 200
    got = api_client.get(f"/api/v1/skills/{name}")
    assert got.status_code == 200 and got.json()["keywords"] == ["k2"]
    assert name in [s["name"] for s in api_client.get("/api/v1/skills").json()]
    assert api_client.delete(f"/api/v1/skills/{name}").status_code == 204
    assert_problem(api_client.get(f"/api/v1/skills/{name}"), 404)


def test_register_skill_helper_replaces_an_existing_skill(api_client):
    name = "e2e_rest_skill_" + uuid.uuid4().hex[:8]
    register_skill_via_api(api_client, name, keywords=["first"])
    register_skill_via_api(api_client, name, keywords=["second"])
    assert api_client.get(f"/api/v1/skills/{name}").json()["keywords"] == ["second"]


def test_skill_without_name_is_400_naming_the_field(api_client):
    resp = api_client.post("/api/v1/skills", json={"description": "d", "keywords": [], "instructions": "i"})
    assert_problem(resp, 400)
    assert "name" in resp.text.lower()


def test_tools_lists_the_builtin_tools_and_their_confirmation_policy(api_client):
    resp = api_client.get("/api/v1/tools")
    assert resp.status_code == 200
    tools = {t["name"]: t for t in resp.json()}
    expected = {
        "calculator": False,
        "ask_human": False,
        "read_file": False,
        "list_files": False,
        "write_file": True,
        "http_get": True,
    }
    for name, needs_confirmation in expected.items():
        assert name in tools, f"{name} missing from {sorted(tools)}"
        assert tools[name]["requires_confirmation"] is needs_confirmation, tools[name]
        assert tools[name]["description"] and "parameters" in tools[name]


# ═══ tenants ════════════════════════════════════════════════════════════════


@pytest.mark.parametrize("suffix", ["", "/messages", "/events?after=0"])
def test_other_tenant_gets_404_on_the_admins_session(api_client, tenant_client, suffix):
    session_id = create_session_via_api(api_client)
    assert_problem(tenant_client.get(f"/api/v1/sessions/{session_id}{suffix}"), 404)
    assert api_client.get(f"/api/v1/sessions/{session_id}{suffix}").status_code == 200


def test_other_tenant_cannot_delete_the_admins_session(api_client, tenant_client):
    session_id = create_session_via_api(api_client)
    assert_problem(tenant_client.delete(f"/api/v1/sessions/{session_id}"), 404)
    assert api_client.get(f"/api/v1/sessions/{session_id}").status_code == 200


def test_tenants_list_only_their_own_sessions(api_client, tenant_client):
    admin_session = create_session_via_api(api_client)
    tenant_session = create_session_via_api(tenant_client)

    def ids(client: httpx.Client) -> list[str]:
        body = client.get("/api/v1/sessions", params={"limit": 100}).json()
        return [s["id"] for s in (body if isinstance(body, list) else body["items"])]

    assert tenant_session in ids(tenant_client) and admin_session not in ids(tenant_client)
    assert admin_session in ids(api_client) and tenant_session not in ids(api_client)


@pytest.mark.asyncio
async def test_other_tenant_gets_404_on_the_websocket_upgrade(ws_helper: WSChatHelper, api_client, tenant):
    session_id = create_session_via_api(api_client)
    assert await upgrade_status(ws_helper.url(session_id, api_key=tenant["key"])) == 404
    assert await upgrade_status(ws_helper.url(session_id)) == 101


@pytest.mark.asyncio
async def test_skills_are_per_tenant(ws_helper: WSChatHelper, api_client, tenant, tenant_client):
    keyword = "zq" + uuid.uuid4().hex[:10]
    name = "e2e_tenant_skill_" + keyword
    register_skill_via_api(api_client, name, keywords=[keyword])
    assert_problem(tenant_client.get(f"/api/v1/skills/{name}"), 404)
    assert name not in [s["name"] for s in tenant_client.get("/api/v1/skills").json()]

    session_id = create_session_via_api(tenant_client)
    async with ws_helper.open(session_id, api_key=tenant["key"]) as sock:
        events = await sock.chat(f"please help with {keyword}")
    assert events[-1]["type"] == "final_answer"
    assert not [e for e in events if e["type"] == "skill_match" and e["skill"] == name]


def test_api_keys_are_admin_only_and_never_shown_again(api_client, tenant, tenant_client):
    listed = api_client.get("/api/v1/api-keys")
    assert listed.status_code == 200
    assert tenant["id"] in listed.text and tenant["key"] not in listed.text
    forbidden = tenant_client.post("/api/v1/api-keys", json={"name": "sneaky"})
    assert forbidden.status_code in (403, 404), forbidden.text
    assert tenant_client.get("/api/v1/api-keys").status_code in (403, 404)


def test_revoked_key_gets_401(api_client, tenant, tenant_client):
    assert tenant_client.get("/api/v1/sessions").status_code == 200
    assert api_client.delete(f"/api/v1/api-keys/{tenant['id']}").status_code == 204
    assert_problem(tenant_client.get("/api/v1/sessions"), 401)


def test_api_key_without_name_is_400(api_client):
    assert_problem(api_client.post("/api/v1/api-keys", json={}), 400)
