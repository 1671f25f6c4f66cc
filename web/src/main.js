// The web client's entry: app state, actions, the chat socket's wiring, and rendering at most once per frame.
//
// Socket events go through the reducer (state.js) the moment they arrive; the page is rendered at most once per
// animation frame (requestAnimationFrame), whatever the number of events in between.

import { h, render } from 'preact';
import { Api, ApiError } from './api.js';
import { ChatConnection } from './socket.js';
import { createChatState, reduce, reduceAll, runsMissingUserMessage } from './state.js';
import { Root } from './views/app.js';

const KEY_STORAGE = 'conclave.apiKey';
const THEME_STORAGE = 'conclave.theme';
const SESSION_PAGE = 30;

/**
 * @typedef {{ tenant_id: string, key_id: string | null, name: string | null, is_admin: boolean }} Me
 * @typedef {{ id: string, title: string | null, metadata: any, created_at: string, updated_at: string, active_run_id: string | null }} Session
 * @typedef {{ page: 'chat' | 'skills' | 'experts' | 'tools' | 'keys' | 'notfound', sessionId: string | null }} Route
 * @typedef {{
 *   api: Api, key: string | null, me: Me | null, signingIn: boolean, signInError: string | null,
 *   route: Route, theme: 'light' | 'dark', sidebarOpen: boolean,
 *   sessions: { items: Session[], next: string | null, loading: boolean, loadingMore: boolean, error: string | null },
 *   currentSession: Session | null,
 *   chat: import('./state.js').ChatState,
 *   chatLoad: { loading: boolean, error: string | null },
 *   conn: { status: string, attempt: number, delay?: number },
 *   announce: { text: string, seq: number },
 *   scrollToBottom: boolean,
 *   focusComposer: boolean,
 * }} App
 * @typedef {typeof actions} Actions
 */

/** @returns {string | null} */
function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

/** @param {string} hash @returns {Route} */
function parseRoute(hash) {
  const path = hash.replace(/^#\/?/, '');
  if (path === '') return { page: 'chat', sessionId: null };
  const m = /^s\/([0-9a-f]{32})$/.exec(path);
  if (m) return { page: 'chat', sessionId: m[1] };
  if (path === 'skills' || path === 'experts' || path === 'tools' || path === 'keys') return { page: path, sessionId: null };
  return { page: 'notfound', sessionId: null };
}

function initialTheme() {
  let stored = null;
  try {
    stored = localStorage.getItem(THEME_STORAGE);
  } catch {
    /* no storage */
  }
  if (stored === 'light' || stored === 'dark') {
    document.documentElement.dataset.theme = stored;
    return stored;
  }
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

const api = new Api(() => app.key, { onUnauthorized: () => signOut('The API key was refused: sign in again.') });

/** @type {App} */
const app = {
  api,
  key: storedKey(),
  me: null,
  signingIn: false,
  signInError: null,
  route: parseRoute(location.hash),
  theme: initialTheme(),
  sidebarOpen: false,
  sessions: { items: [], next: null, loading: false, loadingMore: false, error: null },
  currentSession: null,
  chat: createChatState(null),
  chatLoad: { loading: false, error: null },
  conn: { status: 'idle', attempt: 0 },
  announce: { text: '', seq: 0 },
  scrollToBottom: false,
  focusComposer: false,
};

/** @type {ChatConnection | null} */
let conn = null;
let openSeq = 0;

// ------------------------------------------------------------------ rendering

const rootEl = /** @type {HTMLElement} */ (document.getElementById('app'));
let frame = 0;

function scheduleRender() {
  if (!frame) frame = requestAnimationFrame(flush);
}

function flush() {
  frame = 0;
  const before = document.getElementById('timeline');
  // Follow the stream when the reader is at the bottom; leave them be when they scrolled up.
  const stick = !!before && before.scrollHeight - before.scrollTop - before.clientHeight < 120;
  render(h(Root, { app, actions }), rootEl);
  const tl = document.getElementById('timeline');
  if (tl && (app.scrollToBottom || (stick && tl === before))) tl.scrollTop = tl.scrollHeight;
  if (tl) app.scrollToBottom = false;
  if (app.focusComposer) {
    const box = document.getElementById('composer-input');
    if (box) {
      box.focus();
      app.focusComposer = false;
    }
  }
}

/** @param {string} text */
function announce(text) {
  // The same sentence twice is still a change for the live region.
  const same = app.announce.text.replace(/\u200b$/, '') === text;
  app.announce = { text: same && !app.announce.text.endsWith('\u200b') ? `${text}\u200b` : text, seq: app.announce.seq + 1 };
}

/** @param {string} s @param {number} n */
function snippet(s, n) {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n)}…` : t;
}

// ------------------------------------------------------------------ sign-in

/** @param {string} key */
async function signIn(key) {
  app.signingIn = true;
  app.signInError = null;
  scheduleRender();
  try {
    const me = await api.me(key);
    app.key = key;
    try {
      sessionStorage.setItem(KEY_STORAGE, key);
    } catch {
      /* kept in memory only */
    }
    app.me = me;
    afterSignIn();
  } catch (e) {
    app.signInError = e instanceof ApiError && e.status === 401 ? 'That API key was refused.' : e instanceof Error ? e.message : String(e);
  } finally {
    app.signingIn = false;
    scheduleRender();
  }
}

/** @param {string} [why] */
function signOut(why) {
  if (conn) conn.stop();
  conn = null;
  openSeq++;
  try {
    sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    /* nothing kept */
  }
  app.key = null;
  app.me = null;
  app.signInError = why ?? null;
  app.sessions = { items: [], next: null, loading: false, loadingMore: false, error: null };
  app.chat = createChatState(null);
  app.chatLoad = { loading: false, error: null };
  app.currentSession = null;
  app.conn = { status: 'idle', attempt: 0 };
  app.sidebarOpen = false;
  scheduleRender();
}

function afterSignIn() {
  loadSessions();
  routeChanged(true);
}

// ------------------------------------------------------------------ sessions

async function loadSessions() {
  app.sessions = { ...app.sessions, loading: true, error: null };
  scheduleRender();
  try {
    const { sessions, next } = await api.listSessions({ limit: SESSION_PAGE });
    app.sessions = { items: sessions, next, loading: false, loadingMore: false, error: null };
  } catch (e) {
    app.sessions = { ...app.sessions, loading: false, error: errorMessage(e) };
  }
  scheduleRender();
}

/** @param {unknown} e */
function errorMessage(e) {
  return e instanceof Error ? e.message : String(e);
}

/** @param {Session} s */
function upsertSession(s) {
  const items = app.sessions.items;
  const i = items.findIndex((x) => x.id === s.id);
  app.sessions = { ...app.sessions, items: i < 0 ? [s, ...items] : items.map((x) => (x.id === s.id ? s : x)) };
  if (app.currentSession?.id === s.id) app.currentSession = s;
}

// ------------------------------------------------------------------ the open session

/** @param {boolean} [force] */
function routeChanged(force = false) {
  app.route = parseRoute(location.hash);
  if (!app.me) return scheduleRender();
  const id = app.route.page === 'chat' ? app.route.sessionId : null;
  if (app.route.page === 'chat' && (force || id !== app.chat.sessionId)) {
    if (id) openSession(id);
    else closeSession();
  }
  scheduleRender();
}

function closeSession() {
  openSeq++;
  if (conn) conn.stop();
  conn = null;
  app.chat = createChatState(null);
  app.chatLoad = { loading: false, error: null };
  app.currentSession = null;
  app.conn = { status: 'idle', attempt: 0 };
}

/** @param {string} id */
async function openSession(id) {
  closeSession();
  const mine = openSeq;
  app.chat = createChatState(id);
  app.chatLoad = { loading: true, error: null };
  scheduleRender();
  try {
    const session = await api.getSession(id);
    if (mine !== openSeq) return;
    app.currentSession = session;
    // History first, through the same reducer as live events; then the messages, for the users' texts.
    await api.allEvents(id, 0, (page) => {
      if (mine === openSeq) app.chat = reduceAll(app.chat, page);
    });
    if (mine !== openSeq) return;
    const messages = await api.messages(id);
    if (mine !== openSeq) return;
    app.chat = reduce(app.chat, { type: 'local/messages', messages });
    app.chatLoad = { loading: false, error: null };
    app.scrollToBottom = true;
    scheduleRender();
    connect(id);
  } catch (e) {
    if (mine !== openSeq) return;
    app.chatLoad = {
      loading: false,
      error: e instanceof ApiError && e.status === 404 ? 'There is no such session (it may have been deleted).' : `The history did not load: ${errorMessage(e)}`,
    };
    scheduleRender();
  }
}

/** @param {string} id */
function connect(id) {
  const mine = openSeq;
  const c = new ChatConnection({
    api,
    sessionId: id,
    getLastEventId: () => app.chat.lastEventId,
    onFrame: (f) => {
      if (mine === openSeq) onFrame(f);
    },
    onStatus: (status, info) => {
      if (mine !== openSeq) return;
      app.conn = { status, attempt: info?.attempt ?? 0, delay: info?.delay };
      app.chat = reduce(app.chat, { type: 'local/connection', status });
      scheduleRender();
    },
    onAuthLost: () => signOut('The API key was refused: sign in again.'),
    onGone: () => {
      if (mine !== openSeq) return;
      app.sessions = { ...app.sessions, items: app.sessions.items.filter((s) => s.id !== id) };
      announce('This session was deleted.');
      scheduleRender();
    },
  });
  conn = c;
  c.start();
}

/** @param {any} f */
function onFrame(f) {
  const before = app.chat;
  app.chat = reduce(before, f);
  const after = app.chat;
  if (after.gap && !before.gap) {
    // Never papered over: resume from the last event applied.
    conn?.reconnectNow();
  }
  const applied = typeof f.event_id === 'number' && after.lastEventId === f.event_id && before.lastEventId !== f.event_id;
  if (applied && typeof f.run_id === 'string') {
    if (!before.runs[f.run_id]) {
      announce('Conclave is answering…');
      if (!(f.run_id in after.userByRun)) fetchMessagesSoon();
    }
    const run = after.runs[f.run_id];
    if (f.type === 'final_answer') {
      announce(`Answer complete: ${snippet(run?.text ?? '', 400)}`);
      if (runsMissingUserMessage(after).length) fetchMessagesSoon();
    } else if (f.type === 'error') {
      announce(f.code === 'cancelled' ? 'The run was cancelled.' : `The run failed: ${f.message}`);
    } else if (f.type === 'confirmation_request') {
      announce(`Approval needed: ${f.tool}.`);
    } else if (f.type === 'ask_human') {
      announce(`Question: ${f.question}`);
    }
  } else if (f.type === 'error' && typeof f.event_id !== 'number') {
    announce(after.notices.at(-1)?.message ?? String(f.message));
  }
  scheduleRender();
}

let messagesTimer = 0;
let messagesTries = 0;
function fetchMessagesSoon() {
  if (messagesTimer) return;
  const mine = openSeq;
  const id = app.chat.sessionId;
  messagesTimer = window.setTimeout(async () => {
    messagesTimer = 0;
    if (mine !== openSeq || !id) return;
    try {
      const messages = await api.messages(id);
      if (mine !== openSeq) return;
      app.chat = reduce(app.chat, { type: 'local/messages', messages });
      scheduleRender();
      // The user's message is stored as the run starts, a moment behind its first events: try again a little.
      if (runsMissingUserMessage(app.chat).length && ++messagesTries < 5) fetchMessagesSoon();
      else messagesTries = 0;
    } catch {
      /* shown without the user's text */
    }
  }, 400);
}

/** @param {string} message */
function localNotice(message, code = 'client') {
  app.chat = reduce(app.chat, { type: 'local/notice', code, message });
  announce(message);
  scheduleRender();
}

/** @param {object} frameToSend */
function sendFrame(frameToSend) {
  if (conn && conn.send(frameToSend)) return true;
  localNotice('Not connected to the server right now: nothing was sent. It reconnects on its own; try again in a moment.', 'offline');
  return false;
}

// ------------------------------------------------------------------ actions

const actions = {
  signIn,
  signOut: () => signOut(),

  /** @param {string} text */
  send(text) {
    const content = text.replace(/\s+$/, '');
    if (!content.trim()) return false;
    if (!sendFrame({ type: 'message', content })) return false;
    const first = app.chat.runOrder.length === 0;
    app.chat = reduce(app.chat, { type: 'local/send', content });
    app.scrollToBottom = true;
    scheduleRender();
    const s = app.currentSession;
    if (first && s && !s.title) {
      // A session is named after its first message (rename it at any time).
      const title = snippet(content, 60);
      api.updateSession(s.id, { title }).then(upsertSession, () => {});
    }
    return true;
  },

  cancel() {
    const runId = app.chat.activeRunId;
    if (conn && conn.send(runId ? { type: 'cancel', run_id: runId } : { type: 'cancel' })) return;
    if (runId) api.cancelRun(runId).catch((e) => localNotice(`Cancel failed: ${errorMessage(e)}`));
  },

  /** @param {import('./state.js').PendingRequest} req @param {boolean} approved @param {string} reason */
  confirm(req, approved, reason) {
    /** @type {any} */
    const f = { type: 'confirmation_reply', request_id: req.request_id, approved };
    if (reason && reason.trim()) f.reason = reason.trim();
    if (!sendFrame(f)) return;
    app.chat = reduce(app.chat, { type: 'local/replied', request_id: req.request_id });
    scheduleRender();
  },

  /** @param {import('./state.js').PendingRequest} req @param {string} content */
  reply(req, content) {
    if (!sendFrame({ type: 'reply', request_id: req.request_id, content })) return;
    app.chat = reduce(app.chat, { type: 'local/replied', request_id: req.request_id });
    scheduleRender();
  },

  /** @param {import('./state.js').Run} run */
  retry(run) {
    const text = app.chat.userByRun[run.id] ?? app.chat.lastUserMessage;
    if (text) actions.send(text);
  },

  /** @param {number} noticeId */
  retryLast(noticeId) {
    actions.dismissNotice(noticeId);
    const text = app.chat.lastUserMessage;
    if (text) actions.send(text);
  },

  /** @param {number} id */
  dismissNotice(id) {
    app.chat = reduce(app.chat, { type: 'local/dismiss_notice', id });
    scheduleRender();
  },

  async newSession() {
    try {
      const s = await api.createSession({});
      upsertSession(s);
      app.sidebarOpen = false;
      app.focusComposer = true;
      location.hash = `#/s/${s.id}`;
      scheduleRender();
    } catch (e) {
      app.sessions = { ...app.sessions, error: `A session could not be created: ${errorMessage(e)}` };
      scheduleRender();
    }
  },

  /** @param {string} id @param {string} title */
  async renameSession(id, title) {
    try {
      upsertSession(await api.updateSession(id, { title }));
      app.sessions = { ...app.sessions, error: null };
    } catch (e) {
      app.sessions = { ...app.sessions, error: `The session could not be renamed: ${errorMessage(e)}` };
    }
    scheduleRender();
  },

  /** @param {string} id */
  async deleteSession(id) {
    try {
      if (app.chat.sessionId === id) {
        closeSession();
        location.hash = '#/';
      }
      await api.deleteSession(id);
      app.sessions = { ...app.sessions, items: app.sessions.items.filter((s) => s.id !== id), error: null };
      announce('Session deleted.');
    } catch (e) {
      app.sessions = { ...app.sessions, error: `The session could not be deleted: ${errorMessage(e)}` };
    }
    scheduleRender();
  },

  async loadMoreSessions() {
    const cursor = app.sessions.next;
    if (!cursor || app.sessions.loadingMore) return;
    app.sessions = { ...app.sessions, loadingMore: true };
    scheduleRender();
    try {
      const { sessions, next } = await api.listSessions({ limit: SESSION_PAGE, cursor });
      const have = new Set(app.sessions.items.map((s) => s.id));
      app.sessions = { ...app.sessions, items: [...app.sessions.items, ...sessions.filter((s) => !have.has(s.id))], next, loadingMore: false };
    } catch (e) {
      app.sessions = { ...app.sessions, loadingMore: false, error: errorMessage(e) };
    }
    scheduleRender();
  },

  /** @param {boolean} [open] */
  toggleSidebar(open) {
    const next = open ?? !app.sidebarOpen;
    if (next === app.sidebarOpen) return;
    app.sidebarOpen = next;
    scheduleRender();
    if (!next) requestAnimationFrame(() => {
      const t = document.querySelector('[data-testid="sessions-toggle"]');
      if (t instanceof HTMLElement && t.offsetParent !== null && document.activeElement?.closest?.('#sessions-panel')) t.focus();
    });
  },

  toggleTheme() {
    app.theme = app.theme === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = app.theme;
    try {
      localStorage.setItem(THEME_STORAGE, app.theme);
    } catch {
      /* for this page only */
    }
    scheduleRender();
  },
};

// ------------------------------------------------------------------ start

window.addEventListener('hashchange', () => routeChanged());
window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener?.('change', (e) => {
  if (!document.documentElement.dataset.theme) {
    app.theme = e.matches ? 'dark' : 'light';
    scheduleRender();
  }
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && app.sidebarOpen && !document.querySelector('dialog[open]')) actions.toggleSidebar(false);
});

async function start() {
  if (!app.key) {
    scheduleRender();
    return;
  }
  app.signingIn = true;
  scheduleRender();
  try {
    app.me = await api.me(app.key);
    afterSignIn();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) signOut('The stored API key was refused: sign in again.');
    else app.signInError = `The server cannot be reached: ${errorMessage(e)}`;
  } finally {
    app.signingIn = false;
    scheduleRender();
  }
}

// Render right away (the first paint does not wait for a frame), then keep to one render per frame.
render(h(Root, { app, actions }), rootEl);
start();
