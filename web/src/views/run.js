// One run in the timeline: the user's message, the skill that matched, the reasoning, tool steps, a team's
// board, the streaming answer, its usage and its error.

import { Component } from 'preact';
import { html, showValue, Markdown, plural } from './util.js';
import { Answer } from './answer.js';

/** A component that renders again only when a prop changed (by identity). */
export class Pure extends Component {
  /** @param {Record<string, any>} next */
  shouldComponentUpdate(next) {
    const prev = /** @type {Record<string, any>} */ (this.props);
    for (const k in next) if (next[k] !== prev[k]) return true;
    for (const k in prev) if (!(k in next)) return true;
    return false;
  }
}

/**
 * @typedef {import('../state.js').Run} Run
 * @typedef {import('../state.js').Team} Team
 */

export class RunView extends Pure {
  render() {
    const { run, user, onRetry } = /** @type {{ run: Run, user: string | null, onRetry: (run: Run) => void }} */ (this.props);
    const running = run.status === 'running';
    return html`<article class=${`run run-${run.status}`} data-testid="run" data-run-id=${run.id} data-status=${run.status}>
      ${user !== null &&
      html`<div class="msg msg-user" data-testid="user-message">
        <span class="sr-only">You said:</span>
        <div class="msg-text">${user}</div>
      </div>`}
      <div class="msg msg-assistant">
        <span class="sr-only">Conclave answered:</span>
        ${run.skill && html`<${SkillBadge} skill=${run.skill} />`}
        ${run.trace.map((entry, i) =>
          entry.kind === 'thinking'
            ? html`<${Thinking} key=${i} content=${entry.content} />`
            : entry.kind === 'team'
              ? run.teams[entry.teamId] && html`<${TeamBoard} key=${i} team=${run.teams[entry.teamId]} />`
              : html`<${StepCard} key=${i} step=${entry} team=${entry.teamId ? run.teams[entry.teamId] : undefined} />`,
        )}
        <${Answer} text=${run.text} parts=${run.parts} done=${!running} />
        ${running && html`<div class="working" aria-hidden="true"><span></span><span></span><span></span></div>`}
        ${run.error &&
        html`<div class=${`run-error ${run.error.code === 'cancelled' ? 'run-cancelled' : ''}`} data-testid="run-error" data-code=${run.error.code}>
          <strong>${run.error.code === 'cancelled' ? 'Cancelled' : 'Error'}</strong>
          <span class="code-name">${run.error.code}</span>
          <span class="run-error-message">${run.error.message}</span>
          ${run.error.retryable &&
          html`<button type="button" class="button small" data-testid="retry" onClick=${() => onRetry(run)}>Retry</button>`}
        </div>`}
        ${run.usage &&
        html`<div class="usage" data-testid="usage">
          ${plural(run.usage.input_tokens ?? 0, 'input token')} · ${plural(run.usage.output_tokens ?? 0, 'output token')}
          ${run.finishReason && run.finishReason !== 'stop' ? html` · finish: ${run.finishReason}` : ''}
        </div>`}
      </div>
    </article>`;
  }
}

/** @param {{ skill: { skill: string, score: number, matched: string[] } }} p */
function SkillBadge({ skill }) {
  const pct = Math.round((Number(skill.score) || 0) * 100);
  return html`<div class="skill-match" data-testid="skill-match" data-skill=${skill.skill}>
    Skill <strong>${skill.skill}</strong> (${pct}%${skill.matched.length ? html`, matched ${skill.matched.join(', ')}` : ', chosen'})
  </div>`;
}

class Thinking extends Pure {
  render() {
    return html`<details class="thinking" data-testid="thinking">
      <summary>Reasoning</summary>
      <div class="pre">${this.props.content}</div>
    </details>`;
  }
}

class StepCard extends Pure {
  render() {
    const { step, team } = /** @type {{ step: import('../state.js').StepEntry, team?: Team }} */ (this.props);
    const state = step.phase === 'start' ? 'running' : step.error !== undefined ? 'error' : 'done';
    const c = step.confirmation;
    return html`<div class=${`step step-${state}`} data-testid="step" data-tool=${step.tool} data-state=${state}>
      <div class="step-head">
        <span class="step-no">Step ${step.step}</span>
        <code class="step-tool">${step.tool}</code>
        <span class=${`badge badge-${state}`}>${state === 'running' ? 'running…' : state === 'error' ? 'error' : 'done'}</span>
      </div>
      <details class="step-args">
        <summary>Arguments</summary>
        <pre>${showValue(step.arguments)}</pre>
      </details>
      ${c &&
      html`<div class="step-confirmation" data-testid="step-confirmation">
        ${c.approved === undefined
          ? 'Waiting for approval…'
          : c.approved
            ? `Approved${c.by === 'user' ? '' : ` (${c.by})`}`
            : `${c.by === 'timeout' ? 'Expired' : 'Denied'}${c.result_reason ? `: ${c.result_reason}` : ''}`}
      </div>`}
      ${step.phase === 'end' && step.error === undefined &&
      html`<div class="step-result" data-testid="step-result"><span class="label">Result</span><pre>${showValue(step.result)}</pre></div>`}
      ${step.error !== undefined &&
      html`<div class="step-error" data-testid="step-error"><span class="label">Error</span> ${step.error}</div>`}
      ${team && html`<${TeamBoard} team=${team} />`}
    </div>`;
  }
}

const STATUS_LABEL = /** @type {Record<string, string>} */ ({
  pending: 'pending',
  running: 'running',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
});

export class TeamBoard extends Pure {
  render() {
    const { team } = /** @type {{ team: Team }} */ (this.props);
    const roles = new Map(team.experts.map((e) => [e.name, e.role]));
    const titles = new Map(team.plan.map((t) => [t.task_id, t.title]));
    return html`<section class="team" data-testid="team-board" data-team-id=${team.id} data-status=${team.status} aria-label="Team plan">
      <header class="team-head">
        <h3>Team</h3>
        <span class=${`badge badge-${team.dissolved ?? team.status}`} data-testid="team-status">${team.dissolved ? `dissolved: ${team.dissolved}` : team.status}</span>
      </header>
      <p class="team-goal"><span class="label">Goal</span> ${team.goal}</p>
      ${team.experts.length > 0 &&
      html`<ul class="team-experts" data-testid="team-experts">
        ${team.experts.map((e) => html`<li key=${e.name}><strong>${e.name}</strong> <span class="muted">${e.role}</span></li>`)}
      </ul>`}
      <ol class="plan" data-testid="plan">
        ${team.plan.map(
          (t) => html`<${TaskRow} key=${t.task_id} task=${t} role=${roles.get(t.expert)} progress=${team.tasks[t.task_id]}
            deps=${(t.depends_on ?? []).map((d) => titles.get(d) ?? d).join(', ')} />`,
        )}
      </ol>
      ${team.nested && team.synthesis !== null &&
      html`<div class="synthesis" data-testid="synthesis"><span class="label">Synthesis</span><${Markdown} text=${team.synthesis} /></div>`}
    </section>`;
  }
}

class TaskRow extends Pure {
  render() {
    const { task, progress, deps } = /** @type {{ task: import('../state.js').PlanTask, progress?: { stream: {kind: string, content: string}[], result: string | null }, deps: string, role?: string }} */ (this.props);
    const status = STATUS_LABEL[task.status] ?? task.status;
    return html`<li class=${`task task-${status}`} data-testid="task" data-task-id=${task.task_id} data-status=${task.status}>
      <div class="task-head">
        <span class=${`badge badge-${status}`} data-testid="task-status">${status}</span>
        <strong class="task-title">${task.title}</strong>
        <span class="task-expert">${task.expert}</span>
        ${deps && html`<span class="task-deps muted">after ${deps}</span>`}
      </div>
      ${progress && progress.stream.length > 0 &&
      html`<details class="task-stream" open=${task.status === 'running'}>
        <summary>${task.expert}'s work</summary>
        <div class="expert-stream" data-testid="expert-stream">
          ${progress.stream.map(
            (p, i) => html`<div key=${i} class=${`expert-${p.kind}`} data-kind=${p.kind}>${p.kind === 'tool' ? html`<code>${p.content}</code>` : p.content}</div>`,
          )}
        </div>
      </details>`}
      ${progress && progress.result !== null &&
      html`<details class="task-result" data-testid="expert-result">
        <summary>Result</summary>
        <${Markdown} text=${progress.result} />
      </details>`}
    </li>`;
  }
}
