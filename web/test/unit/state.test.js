import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createChatState, reduce, reduceAll, isResolvedBy, runsMissingUserMessage } from '../../src/state.js';
import { frames, connected } from '../support/frames.js';

const fresh = () => createChatState('s1');

describe('token streaming and the final answer', () => {
  test('tokens accumulate into the answer, final_answer ends the run with its usage', () => {
    const f = frames('run_a');
    let s = reduce(fresh(), { type: 'local/send', content: 'stream 3 words' });
    assert.deepEqual(s.outbox, { content: 'stream 3 words', mode: undefined });
    s = reduce(s, f.ev('token', { content: 'word1' }));
    assert.equal(s.outbox, null, 'the run took the message');
    assert.equal(s.userByRun.run_a, 'stream 3 words');
    assert.equal(s.activeRunId, 'run_a');
    s = reduceAll(s, [f.ev('token', { content: ' word2' }), f.ev('token', { content: ' word3' })]);
    assert.equal(s.runs.run_a.text, 'word1 word2 word3');
    assert.equal(s.runs.run_a.status, 'running');
    s = reduce(s, f.ev('final_answer', { content: 'word1 word2 word3', usage: { input_tokens: 21, output_tokens: 3 }, finish_reason: 'stop' }));
    const run = s.runs.run_a;
    assert.equal(run.status, 'done');
    assert.equal(run.text, 'word1 word2 word3');
    assert.deepEqual(run.usage, { input_tokens: 21, output_tokens: 3 });
    assert.equal(run.finishReason, 'stop');
    assert.equal(s.activeRunId, null);
    assert.equal(s.lastEventId, 4);
    assert.deepEqual(s.runOrder, ['run_a']);
  });

  test('the final answer content is authoritative', () => {
    const f = frames();
    const s = reduceAll(fresh(), [f.ev('token', { content: 'partial' }), f.ev('final_answer', { content: 'whole answer', usage: { input_tokens: 1, output_tokens: 2 } })]);
    assert.equal(s.runs.run_1.text, 'whole answer');
  });

  test('the state is not mutated', () => {
    const f = frames();
    const s0 = reduce(fresh(), f.ev('token', { content: 'a' }));
    const frozen = JSON.stringify(s0);
    const s1 = reduce(s0, f.ev('token', { content: 'b' }));
    assert.equal(JSON.stringify(s0), frozen);
    assert.notEqual(s0, s1);
    assert.equal(s1.runs.run_1.text, 'ab');
  });

  test('two runs keep their order and their own answers', () => {
    const f = frames('run_a');
    let s = reduceAll(fresh(), [f.ev('token', { content: 'A' }), f.ev('final_answer', { content: 'A', usage: {} })]);
    f.run('run_b');
    s = reduceAll(s, [f.ev('token', { content: 'B' }), f.ev('final_answer', { content: 'B', usage: {} })]);
    assert.deepEqual(s.runOrder, ['run_a', 'run_b']);
    assert.equal(s.runs.run_a.text, 'A');
    assert.equal(s.runs.run_b.text, 'B');
  });
});

describe('thinking', () => {
  test('consecutive thinking deltas join; a step between starts a new entry', () => {
    const f = frames();
    const s = reduceAll(fresh(), [
      f.ev('thinking', { content: 'The user ' }),
      f.ev('thinking', { content: 'asked.' }),
      f.ev('step', { step: 1, phase: 'start', tool: 'calculator', arguments: { expression: '1+1' } }),
      f.ev('step', { step: 1, phase: 'end', tool: 'calculator', arguments: { expression: '1+1' }, result: '2' }),
      f.ev('thinking', { content: 'Now answer.' }),
    ]);
    const kinds = s.runs.run_1.trace.map((e) => e.kind);
    assert.deepEqual(kinds, ['thinking', 'step', 'thinking']);
    assert.equal(s.runs.run_1.trace[0].content, 'The user asked.');
    assert.equal(s.runs.run_1.trace[2].content, 'Now answer.');
    assert.equal(s.runs.run_1.text, '', 'thinking is not answer text');
  });
});

describe('steps', () => {
  test('a step start then end with its result', () => {
    const f = frames();
    let s = reduce(fresh(), f.ev('step', { step: 1, phase: 'start', tool: 'calculator', arguments: { expression: '12*(3+4)' } }));
    let step = s.runs.run_1.trace[0];
    assert.equal(step.kind, 'step');
    assert.equal(step.phase, 'start');
    assert.equal(step.result, undefined);
    s = reduce(s, f.ev('step', { step: 1, phase: 'end', tool: 'calculator', arguments: { expression: '12*(3+4)' }, result: '84' }));
    assert.equal(s.runs.run_1.trace.length, 1, 'the end completes the same card');
    step = s.runs.run_1.trace[0];
    assert.equal(step.phase, 'end');
    assert.equal(step.result, '84');
    assert.equal(step.error, undefined);
  });

  test('a step that ends with an error', () => {
    const f = frames();
    const s = reduceAll(fresh(), [
      f.ev('step', { step: 1, phase: 'start', tool: 'read_file', arguments: { path: '/etc/passwd' } }),
      f.ev('step', { step: 2, phase: 'start', tool: 'list_files', arguments: {} }),
      f.ev('step', { step: 1, phase: 'end', tool: 'read_file', arguments: { path: '/etc/passwd' }, error: 'absolute paths are refused' }),
    ]);
    const [one, two] = s.runs.run_1.trace;
    assert.equal(one.phase, 'end');
    assert.equal(one.error, 'absolute paths are refused');
    assert.ok(!('result' in one));
    assert.equal(two.phase, 'start');
  });

  test('a confirmation is recorded on its step', () => {
    const f = frames();
    const s = reduceAll(fresh(), [
      f.ev('step', { step: 1, phase: 'start', tool: 'write_file', arguments: { path: 'a.txt', content: 'hi' } }),
      f.ev('confirmation_request', { request_id: 'req_1', tool: 'write_file', arguments: { path: 'a.txt', content: 'hi' }, reason: 'writes', expires_at: '2026-12-02T10:05:00Z' }),
      f.ev('confirmation_result', { request_id: 'req_1', approved: false, by: 'user', reason: 'no thanks' }),
      f.ev('step', { step: 1, phase: 'end', tool: 'write_file', arguments: {}, error: 'denied' }),
    ]);
    const step = s.runs.run_1.trace[0];
    assert.equal(step.confirmation.request_id, 'req_1');
    assert.equal(step.confirmation.approved, false);
    assert.equal(step.confirmation.by, 'user');
    assert.equal(step.confirmation.result_reason, 'no thanks');
    assert.equal(step.error, 'denied');
  });
});

describe('resume', () => {
  test('history then live events: duplicates (event_id <= last applied) are ignored', () => {
    const f = frames();
    const history = [f.ev('thinking', { content: 't' }), f.ev('token', { content: 'word1' }), f.ev('token', { content: ' word2' })];
    let s = reduceAll(fresh(), history);
    assert.equal(s.lastEventId, 3);
    s = reduce(s, connected({ last_event_id: 3, active_run_id: 'run_1' }));
    // The socket replays from last_event_id; an overlapping event (as after a reconnect race) must not double.
    s = reduceAll(s, [history[1], history[2]]);
    assert.equal(s.runs.run_1.text, 'word1 word2');
    s = reduceAll(s, [f.ev('token', { content: ' word3' }), f.ev('final_answer', { content: 'word1 word2 word3', usage: {} })]);
    const again = reduceAll(s, [history[2], { ...history[2] }]);
    assert.equal(again, s, 'a duplicate leaves the state as it was');
    assert.equal(s.runs.run_1.text, 'word1 word2 word3');
    assert.equal(s.lastEventId, 5);
  });

  test('replaying the same history twice gives the same state as once', () => {
    const f = frames();
    const events = [f.ev('token', { content: 'a' }), f.ev('token', { content: 'b' }), f.ev('final_answer', { content: 'ab', usage: {} })];
    const once = reduceAll(fresh(), events);
    const twice = reduceAll(once, events);
    assert.equal(twice, once);
  });

  test('a gap is not papered over: the event after it is not applied and the gap is recorded', () => {
    const f = frames();
    let s = reduceAll(fresh(), [f.ev('token', { content: 'word1' }), f.ev('token', { content: ' word2' })]);
    const lost = f.ev('token', { content: ' word3' }); // event 3 never arrives
    const after = f.ev('token', { content: ' word4' });
    s = reduce(s, after);
    assert.deepEqual(s.gap, { after: 2, got: 4 });
    assert.equal(s.lastEventId, 2);
    assert.equal(s.runs.run_1.text, 'word1 word2');
    // The resumed socket sends from event 3 on: the gap closes, nothing doubles.
    s = reduce(s, connected({ last_event_id: 4, active_run_id: 'run_1' }));
    assert.equal(s.gap, null);
    s = reduceAll(s, [lost, after]);
    assert.equal(s.gap, null);
    assert.equal(s.runs.run_1.text, 'word1 word2 word3 word4');
  });

  test('connected sets the active run; a run started in another tab has no user message until messages load', () => {
    const f = frames('run_x');
    let s = reduce(fresh(), connected({ last_event_id: 0, active_run_id: null }));
    assert.equal(s.connection, 'open');
    s = reduce(s, f.ev('token', { content: 'hi' }));
    assert.deepEqual(runsMissingUserMessage(s), ['run_x']);
    s = reduce(s, { type: 'local/messages', messages: [{ role: 'user', content: 'say hi', run_id: 'run_x', tool: null }, { role: 'assistant', content: 'hi', run_id: 'run_x', tool: null }] });
    assert.equal(s.userByRun.run_x, 'say hi');
    assert.deepEqual(runsMissingUserMessage(s), []);
  });
});

describe('teams', () => {
  const plan = (research, analysis, writing) => [
    { task_id: 'research', title: 'Research', expert: 'researcher', status: research, depends_on: [] },
    { task_id: 'analysis', title: 'Analysis', expert: 'analyst', status: analysis, depends_on: [] },
    { task_id: 'writing', title: 'Writing', expert: 'writer', status: writing, depends_on: ['research', 'analysis'] },
  ];

  test('a team run: formed, plan updates, expert streams and results, synthesis, dissolved, final answer', () => {
    const f = frames('run_t');
    let s = reduceAll(fresh(), [
      f.ev('thinking', { content: 'plan' }),
      f.ev('team_formed', { team_id: 'team_1', goal: 'stream 5 words', experts: [{ name: 'researcher', role: 'finds' }, { name: 'analyst', role: 'weighs' }, { name: 'writer', role: 'writes' }] }),
      f.ev('plan_update', { team_id: 'team_1', plan: plan('pending', 'pending', 'pending'), status: 'pending' }),
      f.ev('plan_update', { team_id: 'team_1', plan: plan('running', 'running', 'pending'), status: 'running' }),
      f.ev('expert_step', { team_id: 'team_1', expert: 'researcher', task_id: 'research', kind: 'thinking', content: 'hmm' }),
      f.ev('expert_step', { team_id: 'team_1', expert: 'researcher', task_id: 'research', kind: 'token', content: 'word1' }),
      f.ev('expert_step', { team_id: 'team_1', expert: 'researcher', task_id: 'research', kind: 'token', content: ' word2' }),
      f.ev('expert_step', { team_id: 'team_1', expert: 'analyst', task_id: 'analysis', kind: 'tool', content: 'calculator {"expression":"1+1"}' }),
      f.ev('expert_step', { team_id: 'team_1', expert: 'analyst', task_id: 'analysis', kind: 'tool', content: 'calculator returned: 2' }),
      f.ev('expert_result', { team_id: 'team_1', expert: 'researcher', task_id: 'research', content: 'word1 word2' }),
      f.ev('plan_update', { team_id: 'team_1', plan: plan('done', 'running', 'pending'), status: 'running' }),
    ]);
    const run = s.runs.run_t;
    const team = run.teams.team_1;
    assert.equal(team.goal, 'stream 5 words');
    assert.equal(team.experts.length, 3);
    assert.equal(team.nested, false);
    assert.deepEqual(run.trace.map((e) => e.kind), ['thinking', 'team']);
    assert.deepEqual(team.plan.map((t) => t.status), ['done', 'running', 'pending']);
    assert.deepEqual(team.plan[2].depends_on, ['research', 'analysis']);
    assert.deepEqual(team.tasks.research.stream, [{ kind: 'thinking', content: 'hmm' }, { kind: 'token', content: 'word1 word2' }]);
    assert.equal(team.tasks.research.result, 'word1 word2');
    assert.equal(team.tasks.analysis.stream.length, 2, 'each tool line is its own entry');
    assert.equal(run.text, '');

    s = reduceAll(s, [
      f.ev('plan_update', { team_id: 'team_1', plan: plan('done', 'done', 'done'), status: 'done' }),
      f.ev('team_synthesis', { team_id: 'team_1', content: 'All three tasks are done.' }),
    ]);
    assert.equal(s.runs.run_t.text, 'All three tasks are done.', 'the synthesis is the answer');
    s = reduceAll(s, [
      f.ev('team_dissolved', { team_id: 'team_1', reason: 'completed' }),
      f.ev('final_answer', { content: 'All three tasks are done.', usage: { input_tokens: 50, output_tokens: 40 } }),
    ]);
    const end = s.runs.run_t;
    assert.equal(end.teams.team_1.dissolved, 'completed');
    assert.equal(end.teams.team_1.synthesis, 'All three tasks are done.');
    assert.equal(end.teams.team_1.status, 'done');
    assert.equal(end.status, 'done');
    assert.equal(end.text, 'All three tasks are done.');
  });

  test('a team convened by a convene_team step belongs to that step and does not replace the answer', () => {
    const f = frames();
    const s = reduceAll(fresh(), [
      f.ev('step', { step: 1, phase: 'start', tool: 'convene_team', arguments: { goal: 'g' } }),
      f.ev('team_formed', { team_id: 'team_n', goal: 'g', experts: [] }),
      f.ev('team_synthesis', { team_id: 'team_n', content: 'synth' }),
      f.ev('team_dissolved', { team_id: 'team_n', reason: 'completed' }),
      f.ev('step', { step: 1, phase: 'end', tool: 'convene_team', arguments: { goal: 'g' }, result: 'synth' }),
      f.ev('token', { content: 'The team says synth' }),
    ]);
    const run = s.runs.run_1;
    assert.equal(run.trace.length, 1);
    assert.equal(run.trace[0].teamId, 'team_n');
    assert.equal(run.teams.team_n.nested, true);
    assert.equal(run.text, 'The team says synth');
  });

  test('a cancelled team', () => {
    const f = frames();
    const s = reduceAll(fresh(), [
      f.ev('team_formed', { team_id: 'tm', goal: 'g', experts: [] }),
      f.ev('plan_update', { team_id: 'tm', plan: plan('cancelled', 'cancelled', 'cancelled'), status: 'cancelled' }),
      f.ev('team_dissolved', { team_id: 'tm', reason: 'cancelled' }),
      f.ev('error', { code: 'cancelled', message: 'cancelled', retryable: false, usage: { input_tokens: 1, output_tokens: 1 } }),
    ]);
    assert.equal(s.runs.run_1.teams.tm.dissolved, 'cancelled');
    assert.equal(s.runs.run_1.status, 'cancelled');
  });
});

describe('pending requests', () => {
  const confirm = (id, fields = {}) => ({ type: 'confirmation_request', event_id: 3, ts: 't', run_id: 'run_1', request_id: id, tool: 'write_file', arguments: { path: 'a.txt', content: 'hi' }, reason: 'writes a file', expires_at: '2026-12-02T10:05:00Z', ...fields });

  test('connected.pending shows the open requests of the active run (a fresh tab)', () => {
    const ask = { type: 'ask_human', event_id: 7, ts: 't', run_id: 'run_2', request_id: 'req_q', question: 'Name?' };
    const s = reduce(fresh(), connected({ last_event_id: 7, active_run_id: 'run_2', pending: [ask, confirm('req_c', { run_id: 'run_2', event_id: 5 })] }));
    assert.deepEqual(s.pending.map((p) => p.request_id), ['req_c', 'req_q'], 'oldest first');
    assert.equal(s.activeRunId, 'run_2');
  });

  test('connected.pending replaces what was open before (answered elsewhere while away)', () => {
    let s = reduce(fresh(), connected({ pending: [confirm('req_old')] }));
    assert.equal(s.pending.length, 1);
    s = reduce(s, connected({ pending: [] }));
    assert.equal(s.pending.length, 0);
  });

  test('a live confirmation_request is added once, and its confirmation_result removes it', () => {
    const f = frames();
    let s = reduceAll(fresh(), [
      f.ev('step', { step: 1, phase: 'start', tool: 'write_file', arguments: {} }),
      f.ev('confirmation_request', { request_id: 'req_1', tool: 'write_file', arguments: { path: 'a.txt' }, reason: 'r', expires_at: 'x' }),
    ]);
    assert.equal(s.pending.length, 1);
    // The same request also arrives in connected.pending after a reconnect: still one card.
    s = reduce(s, connected({ pending: [s.pending[0]] }));
    assert.equal(s.pending.length, 1);
    s = reduce(s, f.ev('thinking', { content: 'unrelated event of the same run' }));
    assert.equal(s.pending.length, 1, 'a confirmation waits for its result');
    s = reduce(s, f.ev('confirmation_result', { request_id: 'req_other', approved: true, by: 'user' }));
    assert.equal(s.pending.length, 1, 'another request result does not remove it');
    s = reduce(s, f.ev('confirmation_result', { request_id: 'req_1', approved: true, by: 'user' }));
    assert.equal(s.pending.length, 0);
  });

  test('the run\'s terminal event removes its open requests', () => {
    const f = frames();
    let s = reduceAll(fresh(), [
      f.ev('confirmation_request', { request_id: 'req_1', tool: 'write_file', arguments: {}, reason: 'r' }),
    ]);
    s = reduce(s, f.ev('error', { code: 'cancelled', message: 'cancelled', retryable: false, usage: {} }));
    assert.equal(s.pending.length, 0);
  });

  test('ask_human: removed by the next event of its run that is not the request itself', () => {
    const f = frames();
    let s = reduceAll(fresh(), [
      f.ev('step', { step: 1, phase: 'start', tool: 'ask_human', arguments: { question: 'What is your name?' } }),
      f.ev('ask_human', { request_id: 'req_q', question: 'What is your name?' }),
    ]);
    const ask = s.pending[0];
    assert.equal(ask.question, 'What is your name?');
    // Replayed older events of the run (before the question) do not remove it.
    assert.equal(isResolvedBy(ask, { ...s.runs.run_1, type: 'step', event_id: 1, run_id: 'run_1' }), false);
    // The request itself again (connected.pending after a reconnect) keeps it.
    s = reduce(s, connected({ active_run_id: 'run_1', pending: [ask] }));
    assert.equal(s.pending.length, 1);
    s = reduce(s, { type: 'local/replied', request_id: 'req_q' });
    assert.equal(s.pending[0].answered, true);
    // After the reply: the ask_human step ends, then the answer streams.
    s = reduce(s, f.ev('step', { step: 1, phase: 'end', tool: 'ask_human', arguments: {}, result: 'Ada' }));
    assert.equal(s.pending.length, 0);
  });

  test('ask_human in a team: only the same task\'s progress removes it', () => {
    const f = frames();
    let s = reduceAll(fresh(), [
      f.ev('team_formed', { team_id: 'tm', goal: 'g', experts: [] }),
      f.ev('ask_human', { request_id: 'req_q', question: 'Q?', team_id: 'tm', expert: 'researcher', task_id: 'research' }),
    ]);
    assert.equal(s.pending.length, 1);
    s = reduce(s, f.ev('expert_step', { team_id: 'tm', expert: 'analyst', task_id: 'analysis', kind: 'token', content: 'x' }));
    assert.equal(s.pending.length, 1, 'another task streaming says nothing about this question');
    s = reduce(s, f.ev('plan_update', { team_id: 'tm', status: 'running', plan: [{ task_id: 'research', status: 'running' }, { task_id: 'analysis', status: 'done' }] }));
    assert.equal(s.pending.length, 1, 'its task is still running');
    s = reduce(s, f.ev('expert_step', { team_id: 'tm', expert: 'researcher', task_id: 'research', kind: 'tool', content: 'ask_human returned: Ada' }));
    assert.equal(s.pending.length, 0);
  });

  test('ask_human in a team: a plan_update with its task failed removes it', () => {
    const f = frames();
    let s = reduceAll(fresh(), [
      f.ev('team_formed', { team_id: 'tm', goal: 'g', experts: [] }),
      f.ev('ask_human', { request_id: 'req_q', question: 'Q?', team_id: 'tm', expert: 'researcher', task_id: 'research' }),
      f.ev('plan_update', { team_id: 'tm', status: 'running', plan: [{ task_id: 'research', status: 'failed' }] }),
    ]);
    assert.equal(s.pending.length, 0);
  });

  test('an event of a later run removes requests of an earlier run', () => {
    const f = frames('run_1');
    let s = reduce(fresh(), f.ev('ask_human', { request_id: 'req_q', question: 'Q?' }));
    f.run('run_2');
    s = reduce(s, f.ev('token', { content: 'x' }));
    assert.equal(s.pending.length, 0);
  });

  test('unknown_request removes the requests this page answered', () => {
    let s = reduce(fresh(), connected({ pending: [confirm('req_a'), confirm('req_b', { event_id: 4 })] }));
    s = reduce(s, { type: 'local/replied', request_id: 'req_a' });
    s = reduce(s, { type: 'error', ts: 't', code: 'unknown_request', message: 'no such request', retryable: false });
    assert.deepEqual(s.pending.map((p) => p.request_id), ['req_b']);
    assert.equal(s.notices.at(-1).code, 'unknown_request');
  });
});

describe('errors', () => {
  test('a terminal error ends the run, keeps usage and says whether it is retryable', () => {
    const f = frames();
    const s = reduceAll(fresh(), [
      f.ev('token', { content: 'word1' }),
      f.ev('error', { code: 'llm_error', message: 'the model failed', retryable: true, usage: { input_tokens: 3, output_tokens: 1 } }),
    ]);
    const run = s.runs.run_1;
    assert.equal(run.status, 'failed');
    assert.deepEqual(run.error, { code: 'llm_error', message: 'the model failed', retryable: true });
    assert.deepEqual(run.usage, { input_tokens: 3, output_tokens: 1 });
    assert.equal(s.activeRunId, null);
    assert.equal(s.notices.length, 0, 'a run\'s error is not a notice');
  });

  test('cancelled', () => {
    const f = frames();
    const s = reduceAll(fresh(), [f.ev('token', { content: 'word1' }), f.ev('error', { code: 'cancelled', message: 'cancelled by the user', retryable: false, usage: {} })]);
    assert.equal(s.runs.run_1.status, 'cancelled');
    assert.equal(s.runs.run_1.error.retryable, false);
  });

  test('run_in_progress: a notice that a run is active; the message did not start a run', () => {
    const f = frames();
    let s = reduce(fresh(), f.ev('token', { content: 'x' }));
    s = reduce(s, { type: 'local/send', content: 'another' });
    s = reduce(s, { type: 'error', ts: 't', code: 'run_in_progress', message: 'a run is active', retryable: false });
    assert.equal(s.outbox, null);
    assert.equal(s.lastUserMessage, 'another', 'kept for a retry');
    const n = s.notices.at(-1);
    assert.equal(n.code, 'run_in_progress');
    assert.match(n.message, /already active/);
    assert.equal(s.lastEventId, 1, 'a frame error is not an event');
    assert.equal(s.runs.run_1.status, 'running', 'the run goes on');
  });

  test('a retryable frame error (rate_limited) is a retryable notice', () => {
    let s = reduce(fresh(), { type: 'local/send', content: 'hi' });
    s = reduce(s, { type: 'error', ts: 't', code: 'rate_limited', message: 'slow down', retryable: true });
    assert.equal(s.notices.at(-1).retryable, true);
    assert.equal(s.outbox, null);
    s = reduce(s, { type: 'local/dismiss_notice', id: s.notices.at(-1).id });
    assert.equal(s.notices.length, 0);
  });

  test('notices are capped', () => {
    let s = fresh();
    for (let i = 0; i < 20; i++) s = reduce(s, { type: 'error', code: 'no_active_run', message: 'x', retryable: false });
    assert.equal(s.notices.length, 5);
    assert.equal(s.notices.at(-1).id, 20);
  });
});

describe('skills', () => {
  test('skill_match is recorded on its run', () => {
    const f = frames();
    const s = reduce(fresh(), f.ev('skill_match', { skill: 'weather', score: 0.5, matched: ['rain'] }));
    assert.deepEqual(s.runs.run_1.skill, { skill: 'weather', score: 0.5, matched: ['rain'] });
  });
});

describe('robustness', () => {
  test('unknown frames and event types are harmless; their ids still count', () => {
    const f = frames();
    let s = reduce(fresh(), { type: 'something_new' });
    assert.equal(s.lastEventId, 0);
    s = reduce(s, f.ev('something_new', { x: 1 }));
    assert.equal(s.lastEventId, 1);
    s = reduce(s, null);
    s = reduce(s, { nope: true });
    assert.equal(s.lastEventId, 1);
  });

  test('a long stream stays linear (100,000 tokens)', () => {
    const f = frames();
    let s = fresh();
    const t0 = Date.now();
    for (let i = 1; i <= 100000; i++) s = reduce(s, f.ev('token', { content: (i > 1 ? ' word' : 'word') + i }));
    assert.ok(Date.now() - t0 < 10000);
    assert.ok(s.runs.run_1.text.endsWith('word99999 word100000'));
    assert.equal(s.lastEventId, 100000);
  });
});
