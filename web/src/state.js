// The chat state of one session and its pure reducer: reduce(state, action) -> state.
//
// Actions are the server's frames exactly as they arrive (docs/PROTOCOL.md §4.3) plus a few local actions
// (type "local/..."). History from GET /sessions/{id}/events goes through the same reducer as live events, so a
// page that loads a session and a page that watched it live end up in the same state. No DOM here.
//
// Rules the reducer keeps:
// - an event (a frame with an event_id) is applied only when its event_id is exactly one more than the last one
//   applied; an older or equal one is a duplicate and ignored, a newer one leaves a gap, which is recorded in
//   state.gap (and not applied) so that the socket resumes from the last applied id;
// - the state is never mutated: a change makes new objects along its path, the rest is shared (views compare by
//   identity).

/** Frame error codes that say the message sent last did not start a run. */
const MESSAGE_REFUSED = new Set([
  'run_in_progress',
  'invalid_message',
  'invalid_json',
  'internal',
  'cancelled',
  'rate_limited',
  'payload_too_large',
]);

const MAX_NOTICES = 5;

/**
 * @typedef {{ kind: 'thinking', content: string }} ThinkingEntry
 * @typedef {{ request_id: string, reason?: string, expires_at?: string, approved?: boolean, by?: string,
 *   result_reason?: string }} StepConfirmation
 * @typedef {{ kind: 'step', step: number, tool: string, arguments: any, phase: 'start' | 'end', result?: any,
 *   error?: string, confirmation?: StepConfirmation, teamId?: string }} StepEntry
 * @typedef {{ kind: 'team', teamId: string }} TeamEntry
 * @typedef {ThinkingEntry | StepEntry | TeamEntry} TraceEntry
 * @typedef {{ kind: 'thinking' | 'token' | 'tool', content: string }} ExpertPiece
 * @typedef {{ task_id: string, title: string, expert: string, status: string, depends_on: string[] }} PlanTask
 * @typedef {{ id: string, goal: string, experts: {name: string, role: string}[], plan: PlanTask[],
 *   status: string, tasks: Record<string, { stream: ExpertPiece[], result: string | null }>,
 *   synthesis: string | null, dissolved: string | null, nested: boolean }} Team
 * @typedef {{ s: string, prev: TextPart | null, end: number }} TextPart a piece appended to an answer, with
 *   the pieces before it (an immutable list, newest first): a renderer reads only the pieces it has not seen
 * @typedef {{ id: string, status: 'running' | 'done' | 'failed' | 'cancelled', trace: TraceEntry[],
 *   text: string, parts: TextPart | null, skill: any, usage: any, finishReason: string | null,
 *   error: { code: string, message: string, retryable: boolean } | null,
 *   teams: Record<string, Team>, startedAt: string | null, endedAt: string | null,
 *   firstEventId: number, lastEventId: number }} Run
 * @typedef {{ type: 'confirmation_request' | 'ask_human', request_id: string, run_id: string,
 *   event_id: number, answered?: boolean, [k: string]: any }} PendingRequest
 * @typedef {{ id: number, code: string, message: string, retryable: boolean, ts?: string }} Notice
 */

/**
 * The state of a session's chat before anything was loaded.
 * @param {string | null} sessionId
 */
export function createChatState(sessionId = null) {
  return {
    sessionId,
    /** The newest event applied (0: none). */
    lastEventId: 0,
    /** @type {{ after: number, got: number } | null} set when an event came after a gap (it was not applied) */
    gap: null,
    /** @type {Record<string, Run>} */
    runs: {},
    /** @type {string[]} run ids in the order their first event came */
    runOrder: [],
    /** @type {Record<string, string>} the user's message of each run (from GET .../messages or sent here) */
    userByRun: {},
    /** @type {string | null} */
    activeRunId: null,
    /** @type {PendingRequest[]} open confirmation requests and questions, oldest first */
    pending: [],
    /** @type {Notice[]} errors about frames this client sent (not stored events) */
    notices: [],
    noticeSeq: 0,
    /** @type {{ content: string, mode?: string } | null} a message sent whose run has not started yet */
    outbox: null,
    /** @type {string | null} the text of the last message sent from here (for Retry) */
    lastUserMessage: null,
    /** 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' | 'gone' */
    connection: 'idle',
    /** @type {number | null} connected.last_event_id of the current socket */
    serverLastEventId: null,
    /** True once the first `connected` of this session came. */
    connectedOnce: false,
  };
}

/** @typedef {ReturnType<typeof createChatState>} ChatState */

/**
 * @param {ChatState} state
 * @param {any} action a server frame or a local action
 * @returns {ChatState}
 */
export function reduce(state, action) {
  if (!action || typeof action.type !== 'string') return state;
  switch (action.type) {
    case 'local/reset':
      return createChatState(action.sessionId ?? null);
    case 'local/connection':
      return state.connection === action.status ? state : { ...state, connection: action.status };
    case 'local/send':
      return {
        ...state,
        outbox: { content: action.content, mode: action.mode },
        lastUserMessage: action.content,
      };
    case 'local/send_failed':
      return { ...state, outbox: null };
    case 'local/messages':
      return applyMessages(state, action.messages);
    case 'local/replied':
      return {
        ...state,
        pending: state.pending.map((p) => (p.request_id === action.request_id ? { ...p, answered: true } : p)),
      };
    case 'local/dismiss_notice':
      return { ...state, notices: state.notices.filter((n) => n.id !== action.id) };
    case 'local/notice':
      return addNotice(state, { code: action.code ?? 'client', message: action.message, retryable: !!action.retryable });
    case 'connected':
      return applyConnected(state, action);
    case 'pong':
      return state;
    default:
      if (typeof action.event_id === 'number') return applyEvent(state, action);
      if (action.type === 'error') return applyFrameError(state, action);
      return state;
  }
}

/**
 * Applies many actions in order.
 * @param {ChatState} state
 * @param {any[]} actions
 */
export function reduceAll(state, actions) {
  let s = state;
  for (const a of actions) s = reduce(s, a);
  return s;
}

/** @param {ChatState} s @param {any} ev */
function applyConnected(s, ev) {
  const known = new Map(s.pending.map((p) => [p.request_id, p]));
  /** @type {PendingRequest[]} */
  const pending = [];
  for (const p of Array.isArray(ev.pending) ? ev.pending : []) {
    if (!p || typeof p.request_id !== 'string') continue;
    if (p.type !== 'confirmation_request' && p.type !== 'ask_human') continue;
    pending.push({ ...p, answered: known.get(p.request_id)?.answered ?? false });
  }
  pending.sort((a, b) => (a.event_id ?? 0) - (b.event_id ?? 0));
  return {
    ...s,
    activeRunId: ev.active_run_id ?? null,
    serverLastEventId: typeof ev.last_event_id === 'number' ? ev.last_event_id : null,
    pending,
    gap: null,
    connection: 'open',
    connectedOnce: true,
  };
}

/** @param {ChatState} s @param {any} ev */
function applyFrameError(s, ev) {
  const code = String(ev.code ?? 'error');
  let message = String(ev.message ?? 'The server refused the request.');
  let next = s;
  if (code === 'run_in_progress') {
    message = 'A run is already active in this session: wait for it to finish, or cancel it, then send again.';
  }
  if (MESSAGE_REFUSED.has(code) && s.outbox) next = { ...next, outbox: null };
  if (code === 'unknown_request') {
    // The server took no answer for a request this page answered: it was answered elsewhere, expired or ended.
    next = { ...next, pending: next.pending.filter((p) => !p.answered) };
    message = 'That request is no longer open (it was answered elsewhere, expired, or its run ended).';
  }
  if (code === 'no_active_run') message = 'No run is active in this session.';
  return addNotice(next, { code, message, retryable: ev.retryable === true, ts: ev.ts });
}

/** @param {ChatState} s @param {Omit<Notice, 'id'>} n */
function addNotice(s, n) {
  const id = s.noticeSeq + 1;
  const notices = [...s.notices, { id, ...n }].slice(-MAX_NOTICES);
  return { ...s, notices, noticeSeq: id };
}

/** @param {ChatState} s @param {any[]} messages */
function applyMessages(s, messages) {
  if (!Array.isArray(messages)) return s;
  let userByRun = s.userByRun;
  for (const m of messages) {
    if (m && m.role === 'user' && typeof m.run_id === 'string' && typeof m.content === 'string') {
      if (userByRun[m.run_id] !== m.content) {
        if (userByRun === s.userByRun) userByRun = { ...userByRun };
        userByRun[m.run_id] = m.content;
      }
    }
  }
  return userByRun === s.userByRun ? s : { ...s, userByRun };
}

/** True for the event that ends a run. @param {any} ev */
export function isTerminal(ev) {
  return (ev.type === 'final_answer' || ev.type === 'error') && typeof ev.run_id === 'string';
}

/** @param {ChatState} s @param {any} ev */
function applyEvent(s, ev) {
  const id = ev.event_id;
  if (!Number.isInteger(id) || id <= s.lastEventId) return s; // a duplicate (or nonsense): ignored
  if (id !== s.lastEventId + 1) {
    // A gap: never papered over. The event is not applied; the socket resumes from lastEventId.
    return s.gap ? s : { ...s, gap: { after: s.lastEventId, got: id } };
  }
  /** @type {ChatState} */
  let next = { ...s, lastEventId: id, gap: null };
  const runId = typeof ev.run_id === 'string' ? ev.run_id : null;
  if (runId) {
    next = withRun(next, runId, ev);
    const run = next.runs[runId];
    const updated = applyToRun(run, ev);
    if (updated !== run) next.runs = { ...next.runs, [runId]: updated };
    next.activeRunId = isTerminal(ev) ? (next.activeRunId === runId ? null : next.activeRunId) : runId;
  }
  next = applyToPending(next, ev);
  return next;
}

/** Makes sure the run exists (created on its first event). @param {ChatState} s @param {string} runId @param {any} ev */
function withRun(s, runId, ev) {
  if (s.runs[runId]) return s;
  /** @type {Run} */
  const run = {
    id: runId,
    status: 'running',
    trace: [],
    text: '',
    parts: null,
    skill: null,
    usage: null,
    finishReason: null,
    error: null,
    teams: {},
    startedAt: ev.ts ?? null,
    endedAt: null,
    firstEventId: ev.event_id,
    lastEventId: ev.event_id,
  };
  const next = { ...s, runs: { ...s.runs, [runId]: run }, runOrder: [...s.runOrder, runId] };
  if (s.outbox) {
    // The message this page sent is the one that started this run.
    next.userByRun = { ...s.userByRun, [runId]: s.outbox.content };
    next.outbox = null;
  }
  return next;
}

/**
 * @param {Run} run
 * @param {any} ev
 * @returns {Run}
 */
function applyToRun(run, ev) {
  const r = { ...run, lastEventId: ev.event_id };
  switch (ev.type) {
    case 'token': {
      const piece = str(ev.content);
      r.text = run.text + piece;
      r.parts = { s: piece, prev: run.parts, end: (run.parts?.end ?? 0) + piece.length };
      return r;
    }
    case 'thinking': {
      const last = run.trace[run.trace.length - 1];
      if (last && last.kind === 'thinking') {
        r.trace = [...run.trace.slice(0, -1), { kind: 'thinking', content: last.content + str(ev.content) }];
      } else {
        r.trace = [...run.trace, { kind: 'thinking', content: str(ev.content) }];
      }
      return r;
    }
    case 'step':
      r.trace = applyStep(run.trace, ev);
      return r;
    case 'skill_match':
      r.skill = { skill: ev.skill, score: ev.score, matched: Array.isArray(ev.matched) ? ev.matched : [] };
      return r;
    case 'confirmation_request':
      if (ev.task_id) return r;
      r.trace = updateOpenStep(run.trace, ev.tool, (st) => ({
        ...st,
        confirmation: { request_id: ev.request_id, reason: ev.reason, expires_at: ev.expires_at },
      }));
      return r;
    case 'confirmation_result':
      if (ev.task_id) return r;
      r.trace = run.trace.map((e) =>
        e.kind === 'step' && e.confirmation?.request_id === ev.request_id
          ? { ...e, confirmation: { ...e.confirmation, approved: !!ev.approved, by: ev.by, result_reason: ev.reason } }
          : e,
      );
      return r;
    case 'ask_human':
      return r;
    case 'final_answer':
      if (typeof ev.content === 'string' && ev.content !== run.text) setText(r, ev.content);
      r.usage = ev.usage ?? null;
      r.finishReason = ev.finish_reason ?? null;
      r.status = 'done';
      r.endedAt = ev.ts ?? null;
      return r;
    case 'error':
      r.error = { code: str(ev.code), message: str(ev.message), retryable: ev.retryable === true };
      r.usage = ev.usage ?? null;
      r.status = ev.code === 'cancelled' ? 'cancelled' : 'failed';
      r.endedAt = ev.ts ?? null;
      return r;
    case 'team_formed':
    case 'plan_update':
    case 'expert_step':
    case 'expert_result':
    case 'team_synthesis':
    case 'team_dissolved':
      return applyTeam(r, ev);
    default:
      return r; // a type this client does not know: its id still counts
  }
}

/** @param {TraceEntry[]} trace @param {any} ev @returns {TraceEntry[]} */
function applyStep(trace, ev) {
  if (ev.phase === 'end') {
    for (let i = trace.length - 1; i >= 0; i--) {
      const e = trace[i];
      if (e.kind === 'step' && e.step === ev.step && e.phase === 'start') {
        /** @type {StepEntry} */
        const ended = { ...e, phase: 'end', arguments: ev.arguments ?? e.arguments };
        if ('result' in ev) ended.result = ev.result;
        if (typeof ev.error === 'string') ended.error = ev.error;
        const copy = trace.slice();
        copy[i] = ended;
        return copy;
      }
    }
  }
  /** @type {StepEntry} */
  const entry = { kind: 'step', step: ev.step, tool: str(ev.tool), arguments: ev.arguments, phase: ev.phase === 'end' ? 'end' : 'start' };
  if (ev.phase === 'end') {
    if ('result' in ev) entry.result = ev.result;
    if (typeof ev.error === 'string') entry.error = ev.error;
  }
  return [...trace, entry];
}

/**
 * Changes the newest started (not yet ended) step of the tool.
 * @param {TraceEntry[]} trace @param {string} tool @param {(s: StepEntry) => StepEntry} fn
 */
function updateOpenStep(trace, tool, fn) {
  for (let i = trace.length - 1; i >= 0; i--) {
    const e = trace[i];
    if (e.kind === 'step' && e.phase === 'start' && (e.tool === tool || !tool)) {
      const copy = trace.slice();
      copy[i] = fn(e);
      return copy;
    }
  }
  return trace;
}

/** @param {Run} r (already a copy) @param {any} ev */
function applyTeam(r, ev) {
  const teamId = str(ev.team_id);
  if (ev.type === 'team_formed') {
    // Inside a convene_team step the team belongs to that step; otherwise the run is a team run.
    let nested = false;
    const trace = updateOpenStep(r.trace, 'convene_team', (st) => {
      nested = true;
      return { ...st, teamId };
    });
    /** @type {Team} */
    const team = {
      id: teamId,
      goal: str(ev.goal),
      experts: Array.isArray(ev.experts) ? ev.experts : [],
      plan: [],
      status: 'pending',
      tasks: {},
      synthesis: null,
      dissolved: null,
      nested,
    };
    r.teams = { ...r.teams, [teamId]: team };
    r.trace = nested ? trace : [...r.trace, { kind: 'team', teamId }];
    return r;
  }
  const team = r.teams[teamId];
  if (!team) return r; // its team_formed was never seen: nothing to hang it on
  /** @type {Team} */
  const t = { ...team };
  switch (ev.type) {
    case 'plan_update':
      t.plan = Array.isArray(ev.plan) ? ev.plan : team.plan;
      t.status = str(ev.status) || team.status;
      break;
    case 'expert_step': {
      const taskId = str(ev.task_id);
      const task = team.tasks[taskId] ?? { stream: [], result: null };
      const kind = ev.kind === 'thinking' || ev.kind === 'tool' ? ev.kind : 'token';
      const last = task.stream[task.stream.length - 1];
      const stream =
        last && last.kind === kind && kind !== 'tool'
          ? [...task.stream.slice(0, -1), { kind, content: last.content + str(ev.content) }]
          : [...task.stream, { kind, content: str(ev.content) }];
      t.tasks = { ...team.tasks, [taskId]: { ...task, stream, expert: ev.expert } };
      break;
    }
    case 'expert_result': {
      const taskId = str(ev.task_id);
      const task = team.tasks[taskId] ?? { stream: [], result: null };
      t.tasks = { ...team.tasks, [taskId]: { ...task, result: str(ev.content), expert: ev.expert } };
      break;
    }
    case 'team_synthesis':
      t.synthesis = str(ev.content);
      // A team run's answer is its synthesis (the final answer repeats it; it never streams as tokens).
      if (!team.nested && r.text === '') setText(r, t.synthesis);
      break;
    case 'team_dissolved':
      t.dissolved = str(ev.reason) || 'completed';
      break;
  }
  r.teams = { ...r.teams, [teamId]: t };
  return r;
}

/**
 * Adds a request that was announced, and takes away the ones this event shows are over.
 * @param {ChatState} s @param {any} ev
 */
function applyToPending(s, ev) {
  let pending = s.pending;
  if (pending.length > 0) {
    const kept = pending.filter((p) => !isResolvedBy(p, ev));
    if (kept.length !== pending.length) pending = kept;
  }
  if ((ev.type === 'confirmation_request' || ev.type === 'ask_human') && typeof ev.request_id === 'string') {
    if (!pending.some((p) => p.request_id === ev.request_id)) pending = [...pending, { ...ev, answered: false }];
  }
  return pending === s.pending ? s : { ...s, pending };
}

/**
 * Whether event `ev` shows that the pending request `p` is no longer open.
 *
 * - Any terminal event of its run, and any event of another run (a session runs one run at a time).
 * - A confirmation: its confirmation_result.
 * - A question (ask_human has no result event): the reply lets the ask_human tool end, so the next event of
 *   that run that is not the request itself (the ask_human step's end, then the answer) shows it was taken.
 *   A question of a team's expert holds only its own task (the other tasks go on), so there it is the next
 *   event of the same task (an expert_step or expert_result, another request of the task), a plan_update
 *   showing the task no longer running, or the team's end.
 * @param {PendingRequest} p @param {any} ev
 */
export function isResolvedBy(p, ev) {
  if (typeof ev.event_id !== 'number') return false;
  if (typeof p.event_id === 'number' && ev.event_id <= p.event_id) return false;
  if (typeof ev.run_id === 'string' && ev.run_id !== p.run_id) return true;
  if (isTerminal(ev)) return true;
  if (p.type === 'confirmation_request') {
    return ev.type === 'confirmation_result' && ev.request_id === p.request_id;
  }
  // ask_human
  if (ev.request_id === p.request_id) return false;
  if (p.task_id) {
    if (ev.type === 'team_dissolved') return ev.team_id === p.team_id;
    if (ev.type === 'plan_update') {
      if (ev.team_id !== p.team_id || !Array.isArray(ev.plan)) return false;
      const task = ev.plan.find((/** @type {any} */ t) => t.task_id === p.task_id);
      return !!task && task.status !== 'running';
    }
    return ev.task_id === p.task_id && ev.team_id === p.team_id;
  }
  return true;
}

/** Replaces a run's answer text (a new piece list, so that a renderer starts over). @param {Run} r @param {string} text */
function setText(r, text) {
  r.text = text;
  r.parts = text ? { s: text, prev: null, end: text.length } : null;
}

/** @param {any} v */
function str(v) {
  return typeof v === 'string' ? v : v == null ? '' : String(v);
}

/**
 * The user's text for a run, or null when unknown.
 * @param {ChatState} s @param {string} runId
 */
export function userMessageOf(s, runId) {
  return s.userByRun[runId] ?? null;
}

/** The runs whose user message is not known yet (another tab started them, or history had no messages). */
export function runsMissingUserMessage(/** @type {ChatState} */ s) {
  return s.runOrder.filter((id) => !(id in s.userByRun));
}
