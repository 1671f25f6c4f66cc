// The streaming answer: a StreamRenderer owns the element's children; Preact never re-renders them.

import { Component } from 'preact';
import { html } from './util.js';
import { StreamRenderer } from '../markdown.js';

export class Answer extends Component {
  constructor() {
    super();
    /** @type {StreamRenderer | null} */
    this.renderer = null;
    this.frame = 0;
    this.ref = (/** @type {HTMLElement | null} */ el) => {
      if (el && !this.renderer) this.renderer = new StreamRenderer(el);
    };
  }

  componentDidMount() {
    this.pump();
  }

  componentWillUnmount() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }

  /** @param {{ text: string, parts?: import('../state.js').TextPart | null, done: boolean }} next */
  shouldComponentUpdate(next) {
    this.props = next;
    this.pump();
    return false;
  }

  /** Renders what changed; when work is left (a long history), goes on at the next frame. */
  pump() {
    if (!this.renderer) return;
    const more = this.renderer.update(this.props.text ?? '', this.props.parts, !!this.props.done);
    if (more && !this.frame) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.pump();
      });
    }
  }

  render() {
    return html`<div class="md answer" ref=${this.ref} data-testid="answer"></div>`;
  }
}
