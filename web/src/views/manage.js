// Management pages: skills, experts, tools and (for the admin key) API keys.

import { useState, useRef } from 'preact/hooks';
import { html, useConfirm, useLoad, errorText, formatTime, showValue, Dialog } from './util.js';

/** @typedef {import('../api.js').Api} Api */

const NAME_PATTERN = '^[A-Za-z0-9_.\\-]{1,64}$';

/** @param {{ tools: any[] | null, value: string[] | null, onChange: (v: string[] | null) => void, exclude?: string[], idPrefix: string }} p */
function ToolPicker({ tools, value, onChange, exclude = [], idPrefix }) {
  const list = (tools ?? []).filter((t) => !exclude.includes(t.name));
  const limited = value !== null;
  return html`<fieldset class="fieldset">
    <legend>Tools</legend>
    <label class="check">
      <input type="checkbox" data-testid=${`${idPrefix}-limit-tools`} checked=${limited}
        onChange=${(/** @type {any} */ e) => onChange(e.currentTarget.checked ? [] : null)} />
      Limit to the tools checked below (otherwise: all of them)
    </label>
    ${limited &&
    html`<div class="tool-checks">
      ${list.map(
        (t) => html`<label class="check" key=${t.name}>
          <input type="checkbox" value=${t.name} checked=${value.includes(t.name)}
            onChange=${(/** @type {any} */ e) => onChange(e.currentTarget.checked ? [...value, t.name] : value.filter((x) => x !== t.name))} />
          <code>${t.name}</code>
        </label>`,
      )}
    </div>`}
  </fieldset>`;
}

/** @param {{ error: string | null }} p */
function FormError({ error }) {
  return error ? html`<p class="error-text" role="alert" data-testid="form-error">${error}</p>` : null;
}

/** @param {string} v */
function optionalInt(v) {
  const t = String(v ?? '').trim();
  return t === '' ? undefined : Number(t);
}

// ---------------------------------------------------------------- skills

/** @param {{ api: Api }} p */
export function SkillsPage({ api }) {
  const [list, reload] = useLoad(() => api.listSkills(), []);
  const [tools] = useLoad(() => api.listTools(), []);
  const [editing, setEditing] = useState(/** @type {any} */ (null));
  const [confirmEl, ask] = useConfirm();
  const [error, setError] = useState(/** @type {string | null} */ (null));
  return html`<section class="page" data-testid="skills-page">
    <header class="page-head">
      <h2>Skills</h2>
      <button type="button" class="button primary" data-testid="new-skill" onClick=${() => setEditing({ isNew: true })}>New skill</button>
    </header>
    <p class="muted">A skill is matched to a message by its keywords; its instructions become the run's system prompt and its tools limit the run's tools.</p>
    ${list.error && html`<p class="error-text" role="alert">${list.error}</p>`}
    ${error && html`<p class="error-text" role="alert">${error}</p>`}
    ${list.loading && !list.data && html`<p class="muted">Loading…</p>`}
    ${list.data && list.data.length === 0 && html`<p class="muted">No skills yet.</p>`}
    ${list.data && list.data.length > 0 &&
    html`<ul class="item-list" data-testid="skill-list">
      ${list.data.map(
        (/** @type {any} */ s) => html`<li key=${s.name} class="item" data-testid="skill-item" data-name=${s.name}>
          <div class="item-main">
            <h3><code>${s.name}</code> ${s.mode === 'team' && html`<span class="badge">team</span>`}</h3>
            ${s.description && html`<p>${s.description}</p>`}
            <p class="muted small-text">Keywords: ${s.keywords.join(', ')}${s.tools ? ` · tools: ${s.tools.join(', ') || 'none'}` : ''}${s.model ? ` · model: ${s.model}` : ''}</p>
          </div>
          <div class="item-actions">
            <button type="button" class="button small" data-testid="edit-skill" onClick=${() => setEditing(s)}>Edit</button>
            <button type="button" class="button small danger" data-testid="delete-skill" onClick=${async () => {
              if (!(await ask(`Delete the skill “${s.name}”?`))) return;
              try {
                setError(null);
                await api.deleteSkill(s.name);
              } catch (e) {
                setError(errorText(e));
              }
              reload();
            }}>Delete</button>
          </div>
        </li>`,
      )}
    </ul>`}
    <${Dialog} open=${!!editing} title=${editing?.isNew ? 'New skill' : `Edit skill ${editing?.name ?? ''}`} onClose=${() => setEditing(null)} testid="skill-dialog" wide>
      ${editing && html`<${SkillForm} api=${api} skill=${editing} tools=${tools.data} onDone=${() => { setEditing(null); reload(); }} onCancel=${() => setEditing(null)} />`}
    <//>
    ${confirmEl}
  </section>`;
}

/** @param {{ api: Api, skill: any, tools: any[] | null, onDone: () => void, onCancel: () => void }} p */
function SkillForm({ api, skill, tools, onDone, onCancel }) {
  const isNew = !!skill.isNew;
  const [f, setF] = useState(() => ({
    name: skill.name ?? '',
    description: skill.description ?? '',
    keywords: (skill.keywords ?? []).join(', '),
    instructions: skill.instructions ?? '',
    tools: /** @type {string[] | null} */ (skill.tools ?? null),
    mode: skill.mode ?? 'single',
    model: skill.model ?? '',
    confirmation_timeout_seconds: skill.confirmation_timeout_seconds ?? '',
    ask_human_timeout_seconds: skill.ask_human_timeout_seconds ?? '',
  }));
  const [error, setError] = useState(/** @type {string | null} */ (null));
  const [busy, setBusy] = useState(false);
  const set = (/** @type {string} */ k) => (/** @type {any} */ e) => setF({ ...f, [k]: e.currentTarget.value });
  const submit = async (/** @type {Event} */ e) => {
    e.preventDefault();
    const keywords = f.keywords.split(',').map((k) => k.trim()).filter(Boolean);
    if (!keywords.length) {
      setError('Give at least one keyword.');
      return;
    }
    /** @type {any} */
    const body = { name: f.name.trim(), keywords, instructions: f.instructions, mode: f.mode };
    if (f.description.trim()) body.description = f.description.trim();
    if (f.tools !== null) body.tools = f.tools;
    if (f.model.trim()) body.model = f.model.trim();
    const ct = optionalInt(f.confirmation_timeout_seconds);
    const at = optionalInt(f.ask_human_timeout_seconds);
    if (ct !== undefined) body.confirmation_timeout_seconds = ct;
    if (at !== undefined) body.ask_human_timeout_seconds = at;
    setBusy(true);
    setError(null);
    try {
      if (isNew) await api.createSkill(body);
      else await api.putSkill(skill.name, body);
      onDone();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="form" data-testid="skill-form" onSubmit=${submit}>
    <label for="skill-name">Name</label>
    <input id="skill-name" data-testid="skill-name" required pattern=${NAME_PATTERN} maxlength="64" value=${f.name} disabled=${!isNew}
      onInput=${set('name')} aria-describedby="skill-name-help" />
    <small id="skill-name-help" class="muted">Letters, digits, _ . - (up to 64).</small>
    <label for="skill-description">Description</label>
    <input id="skill-description" data-testid="skill-description" value=${f.description} onInput=${set('description')} />
    <label for="skill-keywords">Keywords (comma separated)</label>
    <input id="skill-keywords" data-testid="skill-keywords" required value=${f.keywords} onInput=${set('keywords')} />
    <label for="skill-instructions">Instructions</label>
    <textarea id="skill-instructions" data-testid="skill-instructions" required rows="5" value=${f.instructions} onInput=${set('instructions')}></textarea>
    <${ToolPicker} tools=${tools} value=${f.tools} onChange=${(/** @type {string[] | null} */ v) => setF({ ...f, tools: v })} idPrefix="skill" />
    <div class="grid-2">
      <div>
        <label for="skill-mode">Mode</label>
        <select id="skill-mode" data-testid="skill-mode" value=${f.mode} onChange=${set('mode')}>
          <option value="single">single agent</option>
          <option value="team">team</option>
        </select>
      </div>
      <div>
        <label for="skill-model">Model (optional)</label>
        <input id="skill-model" data-testid="skill-model" value=${f.model} onInput=${set('model')} />
      </div>
      <div>
        <label for="skill-ct">Confirmation timeout (s)</label>
        <input id="skill-ct" type="number" min="0" max="2592000" placeholder="server default" value=${f.confirmation_timeout_seconds} onInput=${set('confirmation_timeout_seconds')} />
      </div>
      <div>
        <label for="skill-at">Question timeout (s)</label>
        <input id="skill-at" type="number" min="0" max="2592000" placeholder="server default" value=${f.ask_human_timeout_seconds} onInput=${set('ask_human_timeout_seconds')} />
      </div>
    </div>
    <${FormError} error=${error} />
    <div class="row end">
      <button type="button" class="button" onClick=${onCancel}>Cancel</button>
      <button type="submit" class="button primary" data-testid="skill-save" disabled=${busy}>${isNew ? 'Create' : 'Save'}</button>
    </div>
  </form>`;
}

// ---------------------------------------------------------------- experts

/** @param {{ api: Api }} p */
export function ExpertsPage({ api }) {
  const [list, reload] = useLoad(() => api.listExperts(), []);
  const [tools] = useLoad(() => api.listTools(), []);
  const [editing, setEditing] = useState(/** @type {any} */ (null));
  const [confirmEl, ask] = useConfirm();
  const [error, setError] = useState(/** @type {string | null} */ (null));
  return html`<section class="page" data-testid="experts-page">
    <header class="page-head">
      <h2>Experts</h2>
      <button type="button" class="button primary" data-testid="new-expert" onClick=${() => setEditing({ isNew: true })}>New expert</button>
    </header>
    <p class="muted">Experts are the members a team's planner can give tasks to. The built-in ones cannot be changed.</p>
    ${list.error && html`<p class="error-text" role="alert">${list.error}</p>`}
    ${error && html`<p class="error-text" role="alert">${error}</p>`}
    ${list.loading && !list.data && html`<p class="muted">Loading…</p>`}
    ${list.data &&
    html`<ul class="item-list" data-testid="expert-list">
      ${list.data.map(
        (/** @type {any} */ x) => html`<li key=${x.name} class="item" data-testid="expert-item" data-name=${x.name} data-built-in=${String(!!x.built_in)}>
          <div class="item-main">
            <h3><code>${x.name}</code> ${x.built_in && html`<span class="badge">built in</span>`}</h3>
            <p>${x.role}</p>
            ${x.tools || x.model ? html`<p class="muted small-text">${x.tools ? `tools: ${x.tools.join(', ') || 'none'}` : ''}${x.model ? ` model: ${x.model}` : ''}</p>` : null}
            <details><summary>Instructions</summary><p class="pre">${x.instructions}</p></details>
          </div>
          ${!x.built_in &&
          html`<div class="item-actions">
            <button type="button" class="button small" data-testid="edit-expert" onClick=${() => setEditing(x)}>Edit</button>
            <button type="button" class="button small danger" data-testid="delete-expert" onClick=${async () => {
              if (!(await ask(`Delete the expert “${x.name}”?`))) return;
              try {
                setError(null);
                await api.deleteExpert(x.name);
              } catch (e) {
                setError(errorText(e));
              }
              reload();
            }}>Delete</button>
          </div>`}
        </li>`,
      )}
    </ul>`}
    <${Dialog} open=${!!editing} title=${editing?.isNew ? 'New expert' : `Edit expert ${editing?.name ?? ''}`} onClose=${() => setEditing(null)} testid="expert-dialog" wide>
      ${editing && html`<${ExpertForm} api=${api} expert=${editing} tools=${tools.data} onDone=${() => { setEditing(null); reload(); }} onCancel=${() => setEditing(null)} />`}
    <//>
    ${confirmEl}
  </section>`;
}

/** @param {{ api: Api, expert: any, tools: any[] | null, onDone: () => void, onCancel: () => void }} p */
function ExpertForm({ api, expert, tools, onDone, onCancel }) {
  const isNew = !!expert.isNew;
  const [f, setF] = useState(() => ({
    name: expert.name ?? '',
    role: expert.role ?? '',
    instructions: expert.instructions ?? '',
    tools: /** @type {string[] | null} */ (expert.tools ?? null),
    model: expert.model ?? '',
  }));
  const [error, setError] = useState(/** @type {string | null} */ (null));
  const [busy, setBusy] = useState(false);
  const set = (/** @type {string} */ k) => (/** @type {any} */ e) => setF({ ...f, [k]: e.currentTarget.value });
  const submit = async (/** @type {Event} */ e) => {
    e.preventDefault();
    /** @type {any} */
    const body = { name: f.name.trim(), role: f.role.trim(), instructions: f.instructions };
    if (f.tools !== null) body.tools = f.tools;
    if (f.model.trim()) body.model = f.model.trim();
    setBusy(true);
    setError(null);
    try {
      if (isNew) await api.createExpert(body);
      else await api.putExpert(expert.name, body);
      onDone();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="form" data-testid="expert-form" onSubmit=${submit}>
    <label for="expert-name">Name</label>
    <input id="expert-name" data-testid="expert-name" required pattern=${NAME_PATTERN} maxlength="64" value=${f.name} disabled=${!isNew} onInput=${set('name')} />
    <label for="expert-role">Role (what the planner reads)</label>
    <input id="expert-role" data-testid="expert-role" required maxlength="200" value=${f.role} onInput=${set('role')} />
    <label for="expert-instructions">Instructions</label>
    <textarea id="expert-instructions" data-testid="expert-instructions" required rows="5" value=${f.instructions} onInput=${set('instructions')}></textarea>
    <${ToolPicker} tools=${tools} value=${f.tools} onChange=${(/** @type {string[] | null} */ v) => setF({ ...f, tools: v })} exclude=${['convene_team']} idPrefix="expert" />
    <label for="expert-model">Model (optional)</label>
    <input id="expert-model" data-testid="expert-model" value=${f.model} onInput=${set('model')} />
    <${FormError} error=${error} />
    <div class="row end">
      <button type="button" class="button" onClick=${onCancel}>Cancel</button>
      <button type="submit" class="button primary" data-testid="expert-save" disabled=${busy}>${isNew ? 'Create' : 'Save'}</button>
    </div>
  </form>`;
}

// ---------------------------------------------------------------- tools

/** @param {{ api: Api }} p */
export function ToolsPage({ api }) {
  const [list] = useLoad(() => api.listTools(), []);
  return html`<section class="page" data-testid="tools-page">
    <header class="page-head"><h2>Tools</h2></header>
    <p class="muted">The built-in tools the agents may call. Those that need confirmation wait for your approval.</p>
    ${list.error && html`<p class="error-text" role="alert">${list.error}</p>`}
    ${list.loading && !list.data && html`<p class="muted">Loading…</p>`}
    ${list.data &&
    html`<ul class="item-list" data-testid="tool-list">
      ${list.data.map(
        (/** @type {any} */ t) => html`<li key=${t.name} class="item" data-testid="tool-item" data-name=${t.name}>
          <div class="item-main">
            <h3><code>${t.name}</code> ${t.requires_confirmation && html`<span class="badge badge-warn" data-testid="needs-confirmation">needs confirmation</span>`}</h3>
            <p>${t.description}</p>
            <details><summary>Parameters (JSON Schema)</summary><pre>${showValue(t.parameters)}</pre></details>
          </div>
        </li>`,
      )}
    </ul>`}
  </section>`;
}

// ---------------------------------------------------------------- API keys

/** @param {{ api: Api }} p */
export function KeysPage({ api }) {
  const [list, reload] = useLoad(() => api.listKeys(), []);
  const [name, setName] = useState('');
  const [created, setCreated] = useState(/** @type {any} */ (null));
  const [copied, setCopied] = useState(/** @type {string | null} */ (null));
  const [error, setError] = useState(/** @type {string | null} */ (null));
  const [busy, setBusy] = useState(false);
  const [confirmEl, ask] = useConfirm();
  const keyRef = useRef(/** @type {HTMLElement | null} */ (null));

  const create = async (/** @type {Event} */ e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setCopied(null);
    try {
      setCreated(await api.createKey(name.trim()));
      setName('');
      reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (!created) return;
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(created.key);
      setCopied('Copied to the clipboard.');
    } catch {
      // No clipboard access (an insecure origin, or refused): select the key so that Ctrl+C copies it.
      const el = keyRef.current;
      if (el) {
        const range = document.createRange();
        range.selectNodeContents(el);
        const sel = window.getSelection();
        sel?.removeAllRanges();
        sel?.addRange(range);
      }
      setCopied('The key is selected: press Ctrl+C (⌘C) to copy it.');
    }
  };

  return html`<section class="page" data-testid="keys-page">
    <header class="page-head"><h2>API keys</h2></header>
    <p class="muted">Each key is a tenant: it sees only the sessions, skills and experts it made. Only the admin key manages keys.</p>
    <form class="row" onSubmit=${create} data-testid="key-form">
      <label for="key-name" class="sr-only">Name of the new key</label>
      <input id="key-name" class="grow" data-testid="key-name" placeholder="Name of the new key" required value=${name}
        onInput=${(/** @type {any} */ e) => setName(e.currentTarget.value)} />
      <button type="submit" class="button primary" data-testid="create-key" disabled=${busy || !name.trim()}>Create key</button>
    </form>
    ${error && html`<p class="error-text" role="alert" data-testid="form-error">${error}</p>`}
    ${created &&
    html`<div class="card card-key" data-testid="new-key-card" role="status">
      <h3>New key “${created.name}”</h3>
      <p><strong>Copy it now: it is shown this once.</strong></p>
      <div class="row wrap">
        <code class="key-value" ref=${keyRef} data-testid="new-key">${created.key}</code>
        <button type="button" class="button" data-testid="copy-key" onClick=${copy}>Copy</button>
        <button type="button" class="button" data-testid="dismiss-key" onClick=${() => setCreated(null)}>Done</button>
      </div>
      ${copied && html`<p class="muted small-text" data-testid="copy-status">${copied}</p>`}
    </div>`}
    ${list.error && html`<p class="error-text" role="alert">${list.error}</p>`}
    ${list.data &&
    html`<div class="table-wrap"><table class="table" data-testid="key-table">
      <thead><tr><th scope="col">Name</th><th scope="col">Id</th><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${list.data.map(
          (/** @type {any} */ k) => html`<tr key=${k.id} data-testid="key-row" data-key-id=${k.id} data-revoked=${String(!!k.revoked_at)}>
            <td>${k.name}${k.is_admin ? html` <span class="badge">admin</span>` : ''}</td>
            <td><code class="small-text">${k.id}</code></td>
            <td><code>${k.prefix}</code></td>
            <td>${formatTime(k.created_at)}</td>
            <td data-testid="key-state">${k.revoked_at ? `revoked ${formatTime(k.revoked_at)}` : 'active'}</td>
            <td>${!k.is_admin && !k.revoked_at &&
            html`<button type="button" class="button small danger" data-testid="revoke-key" onClick=${async () => {
              if (!(await ask(`Revoke the key “${k.name}”? Its sockets close and its runs are cancelled.`, 'Revoke'))) return;
              try {
                setError(null);
                await api.revokeKey(k.id);
              } catch (err) {
                setError(errorText(err));
              }
              reload();
            }}>Revoke</button>`}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>`}
    ${confirmEl}
  </section>`;
}
