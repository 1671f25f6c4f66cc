// The chat socket of one session (docs/PROTOCOL.md §4): a fresh single-use ticket for every (re)connect (the
// API key never goes in a URL), resume from the last applied event_id, reconnection on its own with exponential
// backoff (capped at 10 s, with jitter), and an application-level ping to notice a dead connection.

import { ApiError } from './api.js';

export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 10000;
const PING_EVERY_MS = 20000;
const SILENCE_LIMIT_MS = 50000;

/**
 * The wait before reconnect attempt `attempt` (0: the first after a drop): exponential, capped, with jitter
 * (between half and all of the step).
 * @param {number} attempt @param {() => number} [random]
 */
export function backoffDelay(attempt, random = Math.random) {
  const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 16));
  return Math.round(step / 2 + (random() * step) / 2);
}

/**
 * @typedef {'connecting' | 'open' | 'reconnecting' | 'closed' | 'gone'} SocketStatus
 */

export class ChatConnection {
  /**
   * @param {{
   *   api: import('./api.js').Api,
   *   sessionId: string,
   *   getLastEventId: () => number,
   *   onFrame: (frame: any) => void,
   *   onStatus?: (status: SocketStatus, info?: { attempt: number, delay?: number }) => void,
   *   onAuthLost?: () => void,
   *   onGone?: () => void,
   *   WebSocketImpl?: typeof WebSocket,
   *   origin?: { protocol: string, host: string },
   *   random?: () => number,
   *   goneCheckMs?: number,
   * }} opts
   */
  constructor(opts) {
    this.opts = opts;
    this.api = opts.api;
    this.sessionId = opts.sessionId;
    this.WS = opts.WebSocketImpl ?? WebSocket;
    this.origin = opts.origin ?? globalThis.location;
    this.random = opts.random ?? Math.random;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.stopped = true;
    this.attempt = 0;
    this.isOpen = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.pingTimer = null;
    this.lastFrameAt = 0;
    this.pingSeq = 0;
    this.onOnline = () => {
      if (!this.stopped && !this.ws) this.connectSoon(0);
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    globalThis.addEventListener?.('online', this.onOnline);
    this.status('connecting');
    this.connect();
  }

  stop() {
    this.stopped = true;
    globalThis.removeEventListener?.('online', this.onOnline);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopPing();
    const ws = this.ws;
    this.ws = null;
    this.isOpen = false;
    if (ws) {
      try {
        ws.close(1000);
      } catch {
        /* closing anyway */
      }
    }
    this.status('closed');
  }

  /**
   * Sends a frame; false when the socket is not open (the caller tells the user).
   * @param {object} frame
   */
  send(frame) {
    if (!this.ws || !this.isOpen || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Drops the socket and opens a new one at once (after a gap in the events). */
  reconnectNow() {
    if (this.stopped) return;
    this.drop();
    this.attempt = 0;
    this.connectSoon(0);
  }

  /** @param {SocketStatus} s @param {{ attempt: number, delay?: number }} [info] */
  status(s, info) {
    this.opts.onStatus?.(s, info ?? { attempt: this.attempt });
  }

  drop() {
    const ws = this.ws;
    this.ws = null;
    this.isOpen = false;
    this.stopPing();
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(4000);
      } catch {
        /* gone already */
      }
    }
  }

  /** @param {number} delay */
  connectSoon(delay) {
    if (this.stopped) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  scheduleRetry() {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, this.random);
    this.attempt++;
    this.status('reconnecting', { attempt: this.attempt, delay });
    this.connectSoon(delay);
  }

  async connect() {
    if (this.stopped || this.ws) return;
    let ticket;
    try {
      ticket = (await this.api.ticket()).ticket;
    } catch (e) {
      if (this.stopped) return;
      if (e instanceof ApiError && e.status === 401) {
        this.stopped = true;
        this.status('closed');
        this.opts.onAuthLost?.();
        return;
      }
      this.scheduleRetry();
      return;
    }
    if (this.stopped || this.ws) return;
    const scheme = this.origin.protocol === 'https:' ? 'wss:' : 'ws:';
    const last = Math.max(0, Math.floor(this.opts.getLastEventId() || 0));
    const url = `${scheme}//${this.origin.host}/api/v1/chat/ws/${encodeURIComponent(this.sessionId)}` +
      `?ticket=${encodeURIComponent(ticket)}&last_event_id=${last}`;
    let ws;
    try {
      ws = new this.WS(url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    this.isOpen = false;
    ws.onmessage = (m) => {
      if (this.ws !== ws) return;
      this.lastFrameAt = Date.now();
      let frame;
      try {
        frame = JSON.parse(typeof m.data === 'string' ? m.data : '');
      } catch {
        return;
      }
      if (!frame || typeof frame !== 'object') return;
      if (frame.type === 'connected') {
        this.isOpen = true;
        this.attempt = 0;
        this.startPing(ws);
        this.status('open');
      }
      this.opts.onFrame(frame);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      const wasOpen = this.isOpen;
      this.ws = null;
      this.isOpen = false;
      this.stopPing();
      if (this.stopped) return;
      this.afterClose(ev.code, wasOpen);
    };
    ws.onerror = () => {
      /* a close follows */
    };
  }

  /** @param {number} code @param {boolean} wasOpen */
  async afterClose(code, wasOpen) {
    // 1000 from the server: the session was deleted (or it closed the socket for good). A socket that never got
    // to `connected` may mean the session is gone (404) as much as a spent ticket (401): ask.
    if (code === 1000 || (!wasOpen && this.attempt >= 1)) {
      const answer = await this.sessionState();
      if (this.stopped) return;
      if (answer === 'gone') {
        this.stopped = true;
        this.status('gone');
        this.opts.onGone?.();
        return;
      }
      if (answer === 'unauthorized') {
        this.stopped = true;
        this.status('closed');
        this.opts.onAuthLost?.();
        return;
      }
    }
    if (this.stopped) return;
    this.scheduleRetry();
  }

  /**
   * Whether the session still exists: 'gone' only when two looks a second apart both say 404 (one answer is not
   * enough to give up on a session for good), 'unauthorized' on a 401, else 'ok' (errors included: retry).
   * @returns {Promise<'ok' | 'gone' | 'unauthorized'>}
   */
  async sessionState() {
    for (let look = 0; look < 2; look++) {
      try {
        await this.api.getSession(this.sessionId);
        return 'ok';
      } catch (e) {
        if (!(e instanceof ApiError)) return 'ok';
        if (e.status === 401) return 'unauthorized';
        if (e.status !== 404) return 'ok';
      }
      if (look === 0) await new Promise((r) => setTimeout(r, this.opts.goneCheckMs ?? 1000));
      if (this.stopped) return 'ok';
    }
    return 'gone';
  }

  /** @param {WebSocket} ws */
  startPing(ws) {
    this.stopPing();
    this.lastFrameAt = Date.now();
    this.pingTimer = setInterval(() => {
      if (this.ws !== ws) return;
      if (Date.now() - this.lastFrameAt > SILENCE_LIMIT_MS) {
        // Nothing came back (not even our pong): the connection is dead without having said so.
        this.drop();
        this.scheduleRetry();
        return;
      }
      this.send({ type: 'ping', nonce: ++this.pingSeq });
    }, PING_EVERY_MS);
  }

  stopPing() {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }
}
