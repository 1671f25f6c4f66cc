// Small shared pieces of the views: htm bound to Preact, a modal dialog, a confirm prompt, rendered Markdown,
// and formatting helpers.

import { h, Component } from 'preact';
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import htm from 'htm';
import { renderMarkdown } from '../markdown.js';

export const html = htm.bind(h);

/**
 * A modal <dialog>: Escape and the Close button close it (onClose), focus moves into it and back.
 * @param {{ open: boolean, title: string, onClose: () => void, children?: any, testid?: string, wide?: boolean }} props
 */
export function Dialog({ open, title, onClose, children, testid, wide }) {
  const ref = useRef(/** @type {HTMLDialogElement | null} */ (null));
  const titleId = useRef(`dlg-${Math.random().toString(36).slice(2)}`).current;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      if (typeof d.showModal === 'function') d.showModal();
      else d.setAttribute('open', '');
    } else if (!open && d.open) {
      d.close();
    }
  }, [open]);
  return html`<dialog
    ref=${ref}
    class=${wide ? 'dialog dialog-wide' : 'dialog'}
    aria-labelledby=${titleId}
    data-testid=${testid ?? 'dialog'}
    onCancel=${(/** @type {Event} */ e) => {
      e.preventDefault();
      onClose();
    }}
    onClose=${() => open && onClose()}
  >
    ${open &&
    html`<div class="dialog-body">
      <header class="dialog-head">
        <h2 id=${titleId}>${title}</h2>
        <button type="button" class="icon-button" aria-label="Close" onClick=${onClose}>×</button>
      </header>
      ${children}
    </div>`}
  </dialog>`;
}

/**
 * A yes/no question in a dialog: [element, ask]. ask(message, confirmLabel) resolves true or false.
 */
export function useConfirm() {
  const [q, setQ] = useState(/** @type {{ message: string, label: string, resolve: (v: boolean) => void } | null} */ (null));
  const ask = useCallback(
    (/** @type {string} */ message, label = 'Delete') => new Promise((resolve) => setQ({ message, label, resolve })),
    [],
  );
  const answer = (/** @type {boolean} */ v) => {
    if (q) q.resolve(v);
    setQ(null);
  };
  const el = html`<${Dialog} open=${!!q} title="Are you sure?" onClose=${() => answer(false)} testid="confirm-dialog">
    <p>${q?.message}</p>
    <div class="row end">
      <button type="button" class="button" onClick=${() => answer(false)}>Keep</button>
      <button type="button" class="button danger" data-testid="confirm-yes" onClick=${() => answer(true)}>${q?.label}</button>
    </div>
  <//>`;
  return /** @type {[any, (message: string, label?: string) => Promise<boolean>]} */ ([el, ask]);
}

/** Sanitized Markdown of a text that is complete (rendered again only when the text changes). */
export class Markdown extends Component {
  constructor() {
    super();
    /** @type {HTMLElement | null} */
    this.el = null;
    this.ref = (/** @type {HTMLElement | null} */ el) => {
      this.el = el;
    };
  }
  componentDidMount() {
    this.paint();
  }
  /** @param {{ text: string }} next */
  shouldComponentUpdate(next) {
    if (next.text !== this.props.text) {
      this.props = { ...this.props, text: next.text };
      this.paint();
    }
    return false;
  }
  paint() {
    if (this.el) this.el.replaceChildren(renderMarkdown(this.props.text ?? '', { final: true }));
  }
  render() {
    return html`<div class=${`md ${this.props.class ?? ''}`} ref=${this.ref} data-testid=${this.props.testid}></div>`;
  }
}

/** A JSON value as readable text (a string as it is). @param {any} v */
export function showValue(v) {
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

/** @type {Map<string, string>} */
const timeCache = new Map();

/** A short local date or time (cached: Intl formatting is slow). @param {string | null | undefined} iso */
export function formatTime(iso) {
  if (!iso) return '';
  const hit = timeCache.get(iso);
  if (hit !== undefined) return hit;
  const text = formatTimeNow(iso);
  if (timeCache.size > 2000) timeCache.clear();
  timeCache.set(iso, text);
  return text;
}

/** @param {string} iso */
function formatTimeNow(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric' });
}

/** @param {number} n */
export function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** @param {unknown} e */
export function errorText(e) {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Loads data with an async function; [state, reload].
 * @template T
 * @param {() => Promise<T>} load
 * @param {any[]} deps
 */
export function useLoad(load, deps) {
  const [state, set] = useState(/** @type {{ data: T | null, error: string | null, loading: boolean }} */ ({ data: null, error: null, loading: true }));
  const seq = useRef(0);
  const reload = useCallback(() => {
    const mine = ++seq.current;
    set((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === seq.current && set({ data, error: null, loading: false }),
      (e) => mine === seq.current && set({ data: null, error: errorText(e), loading: false }),
    );
  }, deps);
  useEffect(reload, [reload]);
  return /** @type {[typeof state, () => void]} */ ([state, reload]);
}
