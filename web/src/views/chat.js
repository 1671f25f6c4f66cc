// The chat page: the session list (a panel of its own at phone width), the timeline of runs, the requests that
// wait for the user (confirmations and questions), notices, and the composer.

import { useEffect, useRef, useState } from 'preact/hooks';
import { html, formatTime, Dialog, useConfirm, showValue } from './util.js';
import { RunView, Pure } from './run.js';

/**
 * @typedef {import('../main.js').App} App
 * @typedef {import('../main.js').Actions} Actions
 */

/** @param {{ app: App, actions: Actions }} p */
export function ChatPage({ app, actions }) {
  return html`<div class=${`chat-layout ${app.sidebarOpen ? 'sidebar-open' : ''}`}>
    <${Sidebar} sessions=${app.sessions} currentId=${app.route.sessionId} open=${app.sidebarOpen} actions=${actions} />
    <main class="chat-main" id="main" tabindex="-1">
      ${app.route.sessionId ? html`<${Conversation} app=${app} actions=${actions} />` : html`<${NoSession} actions=${actions} app=${app} />`}
    </main>
  </div>`;
}

/** @param {{ actions: Actions, app: App }} p */
function NoSession({ actions, app }) {
  return html`<div class="empty">
    <h2>Conclave</h2>
    <p>${app.sessions.items.length ? 'Pick a session from the list, or start a new one.' : 'Start a session to chat with the agents.'}</p>
    <button type="button" class="button primary" data-testid="new-session-empty" onClick=${() => actions.newSession()}>New session</button>
  </div>`;
}

/** The session list; rendered again only when its own props change (not on every streamed token). */
class Sidebar extends Pure {
  render() {
    return html`<${SessionPanel} ...${this.props} />`;
  }
}

/** @param {{ sessions: App['sessions'], currentId: string | null, open: boolean, actions: Actions }} p */
function SessionPanel({ sessions, currentId, open, actions }) {
  const app = { sidebarOpen: open, route: { sessionId: currentId } };
  const [rename, setRename] = useState(/** @type {{ id: string, title: string } | null} */ (null));
  const [confirmEl, ask] = useConfirm();
  const s = sessions;
  return html`<aside id="sessions-panel" class="sidebar" aria-label="Sessions" data-testid="sessions-panel"
      onKeyDown=${(/** @type {KeyboardEvent} */ e) => {
        if (e.key === 'Escape' && app.sidebarOpen) actions.toggleSidebar(false);
      }}>
    <div class="sidebar-head">
      <h2>Sessions</h2>
      <button type="button" class="button primary small" data-testid="new-session" onClick=${() => actions.newSession()}>New</button>
    </div>
    ${s.error && html`<p class="error-text" role="alert">${s.error}</p>`}
    <ul class="session-list" data-testid="session-list">
      ${s.items.map(
        (item) => html`<li key=${item.id} class=${item.id === app.route.sessionId ? 'current' : ''} data-testid="session-item" data-session-id=${item.id}>
          <a href=${`#/s/${item.id}`} class="session-link" aria-current=${item.id === app.route.sessionId ? 'page' : undefined}
            onClick=${() => actions.toggleSidebar(false)}>
            <span class="session-title">${item.title || 'Untitled session'}</span>
            <span class="session-date muted">${formatTime(item.created_at)}</span>
          </a>
          <span class="session-actions">
            <button type="button" class="link-button" data-testid="rename-session" aria-label=${`Rename ${item.title || 'untitled session'}`}
              onClick=${() => setRename({ id: item.id, title: item.title ?? '' })}>Rename</button>
            <button type="button" class="link-button" data-testid="delete-session" aria-label=${`Delete ${item.title || 'untitled session'}`}
              onClick=${async () => {
                if (await ask(`Delete “${item.title || 'Untitled session'}” with its whole history? Its active run is cancelled.`)) actions.deleteSession(item.id);
              }}>Delete</button>
          </span>
        </li>`,
      )}
    </ul>
    ${!s.loading && s.items.length === 0 && !s.error && html`<p class="muted small-text">No sessions yet.</p>`}
    ${s.loading && html`<p class="muted small-text">Loading…</p>`}
    ${s.next &&
    html`<button type="button" class="button small full" data-testid="load-more-sessions" disabled=${s.loadingMore} onClick=${() => actions.loadMoreSessions()}>
      ${s.loadingMore ? 'Loading…' : 'Load more'}
    </button>`}
    <${Dialog} open=${!!rename} title="Rename session" onClose=${() => setRename(null)} testid="rename-dialog">
      ${rename &&
      html`<form class="form" onSubmit=${(/** @type {Event} */ e) => {
        e.preventDefault();
        actions.renameSession(rename.id, rename.title.trim());
        setRename(null);
      }}>
        <label for="rename-title">Title</label>
        <input id="rename-title" data-testid="rename-input" maxlength="200" value=${rename.title} autofocus
          onInput=${(/** @type {any} */ e) => setRename({ ...rename, title: e.currentTarget.value })} />
        <div class="row end">
          <button type="button" class="button" onClick=${() => setRename(null)}>Cancel</button>
          <button type="submit" class="button primary" data-testid="rename-save">Save</button>
        </div>
      </form>`}
    <//>
    ${confirmEl}
  </aside>`;
}

/** @param {{ app: App, actions: Actions }} p */
function Conversation({ app, actions }) {
  const chat = app.chat;
  const session = app.sessions.items.find((x) => x.id === app.route.sessionId) ?? app.currentSession;
  const connected = app.conn.status === 'open';
  return html`<div class="conversation">
    <header class="conversation-head">
      <h2 class="conversation-title" data-testid="session-title">${session?.title || 'Untitled session'}</h2>
      <${ConnectionStatus} conn=${app.conn} chat=${chat} />
    </header>
    <div class="timeline" id="timeline" data-testid="timeline" aria-label="Conversation" role="log" aria-live="off">
      ${app.chatLoad.loading && html`<p class="muted" data-testid="history-loading">Loading history…</p>`}
      ${app.chatLoad.error && html`<p class="error-text" role="alert">${app.chatLoad.error}</p>`}
      ${!app.chatLoad.loading && chat.runOrder.length === 0 && !chat.outbox &&
      html`<div class="hint muted" data-testid="empty-chat">
        <p>Say something. With the builtin model, try <code>stream 20 words</code>, <code>12*(3+4)</code>, <code>ask me: What is your name?</code>,
          <code>use tool write_file {"path": "a.txt", "content": "hi"}</code> or <code>/team stream 5 words</code>.</p>
      </div>`}
      ${chat.runOrder.map((id) => html`<${RunView} key=${id} run=${chat.runs[id]} user=${chat.userByRun[id] ?? null} onRetry=${actions.retry} />`)}
      ${chat.outbox &&
      html`<article class="run run-sending" data-testid="outbox">
        <div class="msg msg-user"><div class="msg-text">${chat.outbox.content}</div><span class="muted small-text">Sending…</span></div>
      </article>`}
    </div>
    <${PendingList} pending=${chat.pending} actions=${actions} connected=${connected} />
    <${Notices} notices=${chat.notices} actions=${actions} />
    <${Composer} actions=${actions} active=${chat.activeRunId} connected=${connected} />
  </div>`;
}

/** @param {{ conn: App['conn'], chat: App['chat'] }} p */
function ConnectionStatus({ conn }) {
  const labels = /** @type {Record<string, string>} */ ({
    idle: 'Not connected',
    connecting: 'Connecting…',
    open: 'Connected',
    reconnecting: conn.delay ? `Reconnecting in ${Math.max(1, Math.round(conn.delay / 1000))} s…` : 'Reconnecting…',
    closed: 'Disconnected',
    gone: 'This session was deleted',
  });
  return html`<span class=${`conn conn-${conn.status}`} data-testid="connection" data-status=${conn.status}>
    <span class="conn-dot" aria-hidden="true"></span>${labels[conn.status] ?? conn.status}
  </span>`;
}

class PendingList extends Pure {
  render() {
    const { pending, actions, connected } = /** @type {{ pending: import('../state.js').PendingRequest[], actions: Actions, connected: boolean }} */ (this.props);
    if (!pending.length) return null;
    return html`<section class="pending" aria-label="Waiting for you" data-testid="pending">
      ${pending.map((p) =>
        p.type === 'confirmation_request'
          ? html`<${ConfirmationCard} key=${p.request_id} req=${p} actions=${actions} connected=${connected} />`
          : html`<${AskCard} key=${p.request_id} req=${p} actions=${actions} connected=${connected} />`,
      )}
    </section>`;
  }
}

/** @param {{ req: any }} p */
function Origin({ req }) {
  return req.expert ? html`<p class="muted small-text">From the team's <strong>${req.expert}</strong> (task ${req.task_id})</p>` : null;
}

/** While the socket is down an answer could not be sent: the card says so, and its buttons wait. */
function Offline() {
  return html`<p class="muted small-text" data-testid="answer-offline">Not connected: you can answer once the page has reconnected.</p>`;
}

/** @param {{ req: import('../state.js').PendingRequest, actions: Actions, connected: boolean }} p */
function ConfirmationCard({ req, actions, connected }) {
  const [reason, setReason] = useState('');
  const id = `c-${req.request_id}`;
  return html`<section class="card card-confirm" data-testid="confirmation" data-request-id=${req.request_id} aria-labelledby=${`${id}-h`}>
    <h3 id=${`${id}-h`}>Approve <code>${req.tool}</code>?</h3>
    <${Origin} req=${req} />
    ${req.reason && html`<p>${req.reason}</p>`}
    <details open>
      <summary>Arguments</summary>
      <pre data-testid="confirmation-args">${showValue(req.arguments)}</pre>
    </details>
    ${req.expires_at ? html`<${Countdown} until=${req.expires_at} />` : html`<p class="muted small-text">No time limit.</p>`}
    ${req.answered
      ? html`<p class="muted" data-testid="answer-sent">Answer sent…</p>`
      : html`<div class="card-form">
          <label for=${`${id}-r`}>Reason (optional)</label>
          <input id=${`${id}-r`} data-testid="confirm-reason" value=${reason} onInput=${(/** @type {any} */ e) => setReason(e.currentTarget.value)} />
          <div class="row">
            <button type="button" class="button primary" data-testid="approve" disabled=${!connected} onClick=${() => actions.confirm(req, true, reason)}>Approve</button>
            <button type="button" class="button danger" data-testid="deny" disabled=${!connected} onClick=${() => actions.confirm(req, false, reason)}>Deny</button>
          </div>
          ${!connected && html`<${Offline} />`}
        </div>`}
  </section>`;
}

/** @param {{ req: import('../state.js').PendingRequest, actions: Actions, connected: boolean }} p */
function AskCard({ req, actions, connected }) {
  const [text, setText] = useState('');
  const id = `q-${req.request_id}`;
  const options = Array.isArray(req.options) ? req.options.filter((/** @type {any} */ o) => typeof o === 'string') : [];
  return html`<section class="card card-ask" data-testid="ask-human" data-request-id=${req.request_id} aria-labelledby=${`${id}-h`}>
    <h3 id=${`${id}-h`}>Question</h3>
    <${Origin} req=${req} />
    <p class="question" data-testid="question">${req.question}</p>
    ${req.answered
      ? html`<p class="muted" data-testid="answer-sent">Answer sent…</p>`
      : html`<div class="card-form">
          ${options.length > 0 &&
          html`<div class="row wrap" role="group" aria-label="Suggested answers">
            ${options.map((o) => html`<button type="button" class="button" data-testid="ask-option" disabled=${!connected} onClick=${() => actions.reply(req, o)}>${o}</button>`)}
          </div>`}
          <form class="row" onSubmit=${(/** @type {Event} */ e) => {
            e.preventDefault();
            if (connected && text.trim()) actions.reply(req, text);
          }}>
            <label for=${`${id}-a`} class="sr-only">Your answer</label>
            <input id=${`${id}-a`} class="grow" data-testid="ask-input" placeholder="Your answer" value=${text}
              onInput=${(/** @type {any} */ e) => setText(e.currentTarget.value)} />
            <button type="submit" class="button primary" data-testid="ask-send" disabled=${!connected || !text.trim()}>Answer</button>
          </form>
          ${!connected && html`<${Offline} />`}
        </div>`}
  </section>`;
}

/** A live countdown to an ISO time. @param {{ until: string }} p */
function Countdown({ until }) {
  const end = Date.parse(until);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  if (Number.isNaN(end)) return null;
  const left = Math.max(0, Math.round((end - now) / 1000));
  const m = Math.floor(left / 60);
  const s = String(left % 60).padStart(2, '0');
  return html`<p class=${`countdown ${left < 30 ? 'countdown-low' : ''}`} data-testid="countdown">
    ${left > 0 ? html`Expires in <time datetime=${until}>${m}:${s}</time>` : 'Expired: waiting for the server…'}
  </p>`;
}

class Notices extends Pure {
  render() {
    const { notices, actions } = /** @type {{ notices: import('../state.js').Notice[], actions: Actions }} */ (this.props);
    if (!notices.length) return null;
    return html`<div class="notices" data-testid="notices">
      ${notices.map(
        (n) => html`<div key=${n.id} class="notice" role="alert" data-testid="notice" data-code=${n.code}>
          <span>${n.message}</span>
          <span class="row">
            ${n.retryable && html`<button type="button" class="button small" data-testid="notice-retry" onClick=${() => actions.retryLast(n.id)}>Retry</button>`}
            <button type="button" class="icon-button" aria-label="Dismiss" onClick=${() => actions.dismissNotice(n.id)}>×</button>
          </span>
        </div>`,
      )}
    </div>`;
  }
}

/** @param {{ actions: Actions, active: string | null, connected: boolean }} p */
function Composer({ actions, active, connected }) {
  const [text, setText] = useState('');
  const ref = useRef(/** @type {HTMLTextAreaElement | null} */ (null));
  const submit = () => {
    const t = text;
    if (!t.trim()) return;
    if (actions.send(t)) setText('');
  };
  useEffect(() => {
    // Grow with the text, up to a limit (CSS max-height).
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight}px`;
  }, [text]);
  return html`<form class="composer" data-testid="composer" onSubmit=${(/** @type {Event} */ e) => {
      e.preventDefault();
      submit();
    }}>
    <label for="composer-input" class="sr-only">Message</label>
    <textarea id="composer-input" ref=${ref} rows="1" data-testid="composer-input" placeholder="Message (Enter sends, Shift+Enter for a new line)"
      value=${text} onInput=${(/** @type {any} */ e) => setText(e.currentTarget.value)}
      onKeyDown=${(/** @type {KeyboardEvent} */ e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) {
          e.preventDefault();
          submit();
        }
      }}></textarea>
    <div class="composer-buttons">
      ${active && html`<button type="button" class="button danger" data-testid="cancel" onClick=${() => actions.cancel()}>Cancel</button>`}
      <button type="submit" class="button primary" data-testid="send" disabled=${!connected || !text.trim()}>Send</button>
    </div>
  </form>`;
}
