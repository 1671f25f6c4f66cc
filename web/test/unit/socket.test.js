import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, ChatConnection, BACKOFF_CAP_MS } from '../../src/socket.js';
import { ApiError } from '../../src/api.js';

describe('backoff', () => {
  test('doubles from 0.5 s, is capped at 10 s, and jitters between half and all of the step', () => {
    assert.equal(backoffDelay(0, () => 0), 250);
    assert.equal(backoffDelay(0, () => 1), 500);
    assert.equal(backoffDelay(1, () => 1), 1000);
    assert.equal(backoffDelay(3, () => 1), 4000);
    assert.equal(backoffDelay(10, () => 1), BACKOFF_CAP_MS);
    assert.equal(backoffDelay(50, () => 0), BACKOFF_CAP_MS / 2);
    for (let a = 0; a < 30; a++) {
      const d = backoffDelay(a);
      assert.ok(d > 0 && d <= BACKOFF_CAP_MS);
    }
  });
});

/** A WebSocket stand-in that records what it was opened with. */
function fakeSockets() {
  /** @type {FakeWS[]} */
  const opened = [];
  class FakeWS {
    /** @param {string} url */
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      /** @type {string[]} */
      this.sent = [];
      /** @type {any} */
      this.onmessage = null;
      /** @type {any} */
      this.onclose = null;
      opened.push(this);
    }
    /** @param {object} frame */
    receive(frame) {
      this.readyState = 1;
      this.onmessage?.({ data: JSON.stringify(frame) });
    }
    /** @param {number} code */
    serverClose(code) {
      this.readyState = 3;
      this.onclose?.({ code });
    }
    /** @param {string} s */
    send(s) {
      this.sent.push(s);
    }
    close() {
      this.readyState = 3;
    }
  }
  return { opened, FakeWS };
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(cond, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await wait(5);
  }
}

describe('ChatConnection', () => {
  test('a fresh ticket for every (re)connect, resuming from the last applied event; no key in the URL', async () => {
    const { opened, FakeWS } = fakeSockets();
    let tickets = 0;
    let last = 0;
    const frames = [];
    const statuses = [];
    const api = {
      ticket: async () => ({ ticket: `tkt_${++tickets}`, expires_at: 'x' }),
      getSession: async () => ({ id: 's' }),
    };
    const c = new ChatConnection({
      api: /** @type {any} */ (api),
      sessionId: 'abc',
      getLastEventId: () => last,
      onFrame: (f) => frames.push(f),
      onStatus: (s) => statuses.push(s),
      WebSocketImpl: /** @type {any} */ (FakeWS),
      origin: { protocol: 'https:', host: 'example.test' },
      random: () => 0,
    });
    c.start();
    await until(() => opened.length === 1);
    assert.equal(opened[0].url, 'wss://example.test/api/v1/chat/ws/abc?ticket=tkt_1&last_event_id=0');
    assert.equal(c.send({ type: 'ping' }), false, 'nothing is sent before connected');
    opened[0].receive({ type: 'connected', last_event_id: 0, pending: [] });
    assert.equal(c.send({ type: 'ping' }), true);
    last = 42;
    opened[0].serverClose(1006);
    await until(() => opened.length === 2);
    assert.equal(opened[1].url, 'wss://example.test/api/v1/chat/ws/abc?ticket=tkt_2&last_event_id=42');
    // Refused before `connected` (a spent ticket is a 401 on the upgrade): try again, with a new ticket.
    opened[1].serverClose(1006);
    await until(() => opened.length === 3);
    assert.match(opened[2].url, /ticket=tkt_3&last_event_id=42$/);
    opened[2].receive({ type: 'connected', last_event_id: 42, pending: [] });
    assert.deepEqual(frames.map((f) => f.type), ['connected', 'connected']);
    assert.ok(statuses.includes('reconnecting'));
    assert.equal(statuses.at(-1), 'open');
    for (const ws of opened) assert.ok(!ws.url.includes('api_key'));
    c.stop();
    assert.equal(statuses.at(-1), 'closed');
  });

  test('a refused ticket (401) means the key is gone: stop and sign out', async () => {
    const { opened, FakeWS } = fakeSockets();
    let lost = 0;
    const c = new ChatConnection({
      api: /** @type {any} */ ({ ticket: async () => { throw new ApiError(401, 'refused'); } }),
      sessionId: 'abc',
      getLastEventId: () => 0,
      onFrame: () => {},
      onAuthLost: () => lost++,
      WebSocketImpl: /** @type {any} */ (FakeWS),
      origin: { protocol: 'http:', host: 'h' },
    });
    c.start();
    await until(() => lost === 1);
    await wait(50);
    assert.equal(opened.length, 0);
  });

  test('the session was deleted (closed with 1000, then 404 twice): gone, no retry', async () => {
    const { opened, FakeWS } = fakeSockets();
    let gone = 0;
    let looks = 0;
    const c = new ChatConnection({
      api: /** @type {any} */ ({
        ticket: async () => ({ ticket: 'tkt_x' }),
        getSession: async () => { looks++; throw new ApiError(404, 'no'); },
      }),
      goneCheckMs: 20,
      sessionId: 'abc',
      getLastEventId: () => 0,
      onFrame: () => {},
      onGone: () => gone++,
      WebSocketImpl: /** @type {any} */ (FakeWS),
      origin: { protocol: 'http:', host: 'h' },
      random: () => 0,
    });
    c.start();
    await until(() => opened.length === 1);
    opened[0].receive({ type: 'connected' });
    opened[0].serverClose(1000);
    await until(() => gone === 1);
    await wait(400);
    assert.equal(opened.length, 1);
    assert.equal(looks, 2);
  });

  test('one 404 alone is not enough to give up on the session', async () => {
    const { opened, FakeWS } = fakeSockets();
    let gone = 0;
    let looks = 0;
    const c = new ChatConnection({
      api: /** @type {any} */ ({
        ticket: async () => ({ ticket: 'tkt_x' }),
        getSession: async () => { if (++looks === 1) throw new ApiError(404, 'no'); return {}; },
      }),
      goneCheckMs: 20,
      sessionId: 'abc',
      getLastEventId: () => 0,
      onFrame: () => {},
      onGone: () => gone++,
      WebSocketImpl: /** @type {any} */ (FakeWS),
      origin: { protocol: 'http:', host: 'h' },
      random: () => 0,
    });
    c.start();
    await until(() => opened.length === 1);
    opened[0].receive({ type: 'connected' });
    opened[0].serverClose(1000);
    await until(() => opened.length === 2);
    assert.equal(gone, 0);
    c.stop();
  });

  test('reconnectNow (after a gap) drops the socket and opens a new one at once', async () => {
    const { opened, FakeWS } = fakeSockets();
    let n = 0;
    const c = new ChatConnection({
      api: /** @type {any} */ ({ ticket: async () => ({ ticket: `tkt_${++n}` }), getSession: async () => ({}) }),
      sessionId: 'abc',
      getLastEventId: () => 7,
      onFrame: () => {},
      WebSocketImpl: /** @type {any} */ (FakeWS),
      origin: { protocol: 'http:', host: 'h' },
    });
    c.start();
    await until(() => opened.length === 1);
    opened[0].receive({ type: 'connected' });
    c.reconnectNow();
    await until(() => opened.length === 2);
    assert.match(opened[1].url, /ticket=tkt_2&last_event_id=7$/);
    // The dropped socket's late frames are ignored.
    opened[0].onmessage?.({ data: '{"type":"token"}' });
    c.stop();
  });
});
