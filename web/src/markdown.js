// Markdown for model output: marked parses, highlight.js colours code blocks, DOMPurify sanitizes every piece
// of HTML before it touches the page (nothing a model writes can run script: no script or style elements, no
// event handler attributes, no javascript: URLs, no inline styles; links open in a new tab with
// rel="noopener noreferrer"). Raw HTML inside the Markdown is escaped and shown as text: it is never parsed,
// not even by the sanitizer (Chrome reports a CSP violation for an inline handler even in an inert document).
//
// StreamRenderer renders an answer while it streams, with bounded work per frame: finished blocks (split at
// blank lines outside code fences, see blocks.js) are rendered once and kept; only the unfinished tail block is
// rendered again, and a tail longer than TAIL_LIMIT is shown as plain text in fixed chunks until it is finished.

import { Marked } from 'marked';
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { BlockSplitter } from './blocks.js';

for (const [name, lang] of Object.entries({ bash, csharp, css, go, java, javascript, json, python, rust, sql, typescript, xml, yaml })) {
  hljs.registerLanguage(name, lang);
}
hljs.configure({ ignoreUnescapedHTML: true });

/** Longest unfinished block rendered as Markdown on every frame; a longer one is plain text until finished. */
export const TAIL_LIMIT = 8 * 1024;
/** Size of the plain-text chunks of a long unfinished block. */
const CHUNK = 4 * 1024;
/** Characters of finished blocks rendered per frame at most (one block is always rendered, however long). */
const FRAME_BUDGET = 256 * 1024;
/** Code without a language is guessed only when it is shorter than this (guessing tries every language). */
const AUTO_LIMIT = 4000;

/** @param {string} s */
function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** @param {boolean} guess */
function makeMarked(guess) {
  return new Marked({
    gfm: true,
    breaks: false,
    async: false,
    renderer: {
      // Raw HTML in model output is shown as text, never parsed as markup (DOMPurify below is the second line).
      /** @param {{ text: string, block: boolean }} token */
      html({ text, block }) {
        const shown = escapeHtml(text);
        return block ? `<p>${shown.replace(/\n+$/, '')}</p>\n` : shown;
      },
      /** @param {{ text: string, lang?: string }} token */
      code({ text, lang }) {
        const name = (lang ?? '').trim().split(/\s+/)[0].toLowerCase();
        let body;
        let label = name;
        if (name && hljs.getLanguage(name)) {
          body = hljs.highlight(text, { language: name, ignoreIllegals: true }).value;
        } else if (!name && guess && text.length < AUTO_LIMIT) {
          const found = hljs.highlightAuto(text);
          body = found.relevance >= 5 ? found.value : escapeHtml(text);
          label = found.relevance >= 5 ? found.language ?? '' : '';
        } else {
          body = escapeHtml(text);
        }
        const cls = label ? ` class="hljs language-${escapeHtml(label.replace(/[^\w+#.-]/g, ''))}"` : ' class="hljs"';
        return `<pre><code${cls}>${body}</code></pre>\n`;
      },
    },
  });
}

const finished = makeMarked(true);
const streaming = makeMarked(false);

/** @type {import('dompurify').Config & { RETURN_DOM_FRAGMENT: true }} */
const PURIFY = {
  RETURN_DOM_FRAGMENT: true,
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'option', 'iframe', 'frame', 'object',
    'embed', 'dialog', 'template', 'base', 'link', 'meta', 'svg', 'math'],
  FORBID_ATTR: ['style', 'id', 'name', 'tabindex', 'autofocus', 'srcset', 'action', 'formaction'],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
};

let hooked = false;
function hook() {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'A') {
      if (node.hasAttribute('href')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    } else if (node.nodeName === 'IMG') {
      node.setAttribute('referrerpolicy', 'no-referrer');
      node.setAttribute('loading', 'lazy');
    }
  });
}

/**
 * Renders Markdown to a sanitized fragment.
 * @param {string} src
 * @param {{ final?: boolean }} [opts] final: the text will not change (code without a language may be guessed)
 * @returns {DocumentFragment}
 */
export function renderMarkdown(src, opts = {}) {
  hook();
  const html = /** @type {string} */ ((opts.final ? finished : streaming).parse(src));
  return /** @type {DocumentFragment} */ (DOMPurify.sanitize(html, PURIFY));
}

/**
 * Sanitized HTML string of some Markdown (for tests and small texts).
 * @param {string} src
 */
export function markdownToHtml(src) {
  const div = document.createElement('div');
  div.append(renderMarkdown(src, { final: true }));
  return div.innerHTML;
}

/**
 * @typedef {import('./state.js').TextPart} TextPart
 */

/**
 * Renders a growing text into an element, with bounded work per call. The text comes as the reducer keeps it: the
 * whole string (read only when it was replaced) and the list of pieces appended to it, newest first, of which only
 * the new ones are read. The whole growing string is never read again per frame (that would copy all of it).
 */
export class StreamRenderer {
  /** @param {HTMLElement} root */
  constructor(root) {
    this.root = root;
    this.reset();
  }

  reset() {
    this.root.textContent = '';
    this.splitter = new BlockSplitter();
    /** @type {TextPart | null} the newest piece read */
    this.seen = null;
    /** How many characters were read. */
    this.fed = 0;
    /** @type {string[]} finished blocks not rendered yet */
    this.queue = [];
    this.done = false;
    this.tailEl = document.createElement('div');
    this.tailEl.className = 'md-tail';
    this.root.append(this.tailEl);
    /** @type {string | null} the Markdown the tail element shows */
    this.tailSrc = null;
    /** @type {{ frozen: number, live: HTMLElement } | null} a long tail shown as plain text (frozen: chars kept) */
    this.prov = null;
    this.tailStart = 0;
    this.blocks = 0;
  }

  /**
   * The text added since the last read, or null when the text is not a continuation of what was read.
   * @param {string} text @param {TextPart | null | undefined} parts
   */
  readDelta(text, parts) {
    if (parts === undefined) {
      // A plain string (no piece list): fine for texts that do not grow.
      if (this.fed === 0 && !this.seen) return text;
      return null;
    }
    if (parts === this.seen) return '';
    /** @type {string[]} */
    const out = [];
    let p = parts;
    while (p && p !== this.seen) {
      out.push(p.s);
      p = p.prev;
    }
    if (p !== this.seen) return null; // the list does not lead back to what was read: the text was replaced
    return out.length === 1 ? out[0] : out.reverse().join('');
  }

  /**
   * Brings the element up to date. Returns true when work is left for another frame.
   * @param {string} text the whole answer so far
   * @param {TextPart | null | undefined} parts the pieces of `text`, newest first
   * @param {boolean} done the answer is complete
   */
  update(text, parts, done) {
    let delta = this.readDelta(text, parts);
    if (delta === null || (this.done && !done)) {
      this.reset();
      delta = text;
    }
    if (parts !== undefined) this.seen = parts;
    if (delta) {
      this.fed += delta.length;
      const tailBefore = this.fed - delta.length - this.splitter.tailLength;
      for (const b of this.splitter.push(delta)) this.queue.push(b);
      const tailStart = this.fed - this.splitter.tailLength;
      if (tailStart !== tailBefore) this.tailStart = tailStart;
    }
    if (done && !this.done) {
      this.done = true;
      for (const b of this.splitter.finish()) this.queue.push(b);
    }
    if (this.queue.length) {
      // The tail showed (part of) the oldest queued block: clear it so that nothing shows twice.
      this.clearTail();
      let budget = FRAME_BUDGET;
      while (this.queue.length && budget > 0) {
        const block = /** @type {string} */ (this.queue.shift());
        budget -= block.length;
        this.appendBlock(block);
      }
      if (this.queue.length) return true;
    }
    if (this.done) this.clearTail();
    else this.renderTail();
    return false;
  }

  /** @param {string} block */
  appendBlock(block) {
    const el = document.createElement('div');
    el.className = 'md-block';
    el.append(renderMarkdown(block, { final: true }));
    this.root.insertBefore(el, this.tailEl);
    this.blocks++;
  }

  clearTail() {
    if (this.tailSrc !== null || this.prov) {
      this.tailEl.textContent = '';
      this.tailEl.className = 'md-tail';
      this.tailSrc = null;
      this.prov = null;
    }
  }

  renderTail() {
    const sp = this.splitter;
    const len = sp.tailLength;
    if (len === 0) {
      this.clearTail();
      return;
    }
    if (this.prov && this.prov.start !== this.tailStart) this.clearTail();
    if (!this.prov && len <= TAIL_LIMIT) {
      const src = sp.tail;
      if (src !== this.tailSrc) {
        this.tailEl.replaceChildren(renderMarkdown(src));
        this.tailSrc = src;
      }
      return;
    }
    if (!this.prov) {
      this.tailEl.textContent = '';
      this.tailSrc = null;
      const code = /^ {0,3}(```|~~~)/.test(sp.head(8));
      this.tailEl.className = code ? 'md-tail md-provisional md-provisional-code' : 'md-tail md-provisional';
      const live = document.createElement('div');
      live.className = 'md-chunk';
      this.tailEl.append(live);
      this.prov = { start: this.tailStart, frozen: 0, live };
    }
    const p = this.prov;
    let rest = sp.tailFrom(p.frozen);
    while (rest.length > 2 * CHUNK) {
      const cut = cutPoint(rest, 0, CHUNK);
      const el = document.createElement('div');
      el.className = 'md-chunk';
      el.textContent = rest.slice(0, cut);
      this.tailEl.insertBefore(el, p.live);
      p.frozen += cut;
      rest = rest.slice(cut);
    }
    if (p.live.textContent !== rest) p.live.textContent = rest;
  }
}

/**
 * Where to end a plain-text chunk near `limit`: after a newline or a space in its second half, else at the limit
 * (never between the halves of a surrogate pair).
 * @param {string} text @param {number} from @param {number} limit
 */
function cutPoint(text, from, limit) {
  const half = from + (limit - from) / 2;
  const nl = text.lastIndexOf('\n', limit - 1);
  if (nl >= half) return nl + 1;
  const sp = text.lastIndexOf(' ', limit - 1);
  if (sp >= half) return sp + 1;
  const c = text.charCodeAt(limit - 1);
  return c >= 0xd800 && c <= 0xdbff ? limit + 1 : limit;
}
