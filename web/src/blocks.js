// Splits a streaming Markdown text into finished blocks, incrementally and without a DOM.
//
// A block is finished once a blank line outside a code fence is followed by a line that starts in column 0
// (a line that starts with a space or a tab after a blank line may continue a list item or an indented code
// block, so it stays in the block). Blank lines inside a fence never split. Each character is looked at a bounded
// number of times, so feeding a 100,000-word answer a token at a time costs time in proportion to its length,
// not to its square: the block in progress is kept as its finished lines plus the pieces of the line still being
// written (never one growing string, which would be copied whole whenever it is read), and only the new text is
// searched for line ends. tailFrom() reads the end of the unfinished block in time proportional to what it reads.

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})(.*)$/;
const FENCE_CLOSE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;

/** A splitter that is fed text and hands back the blocks that are finished. */
export class BlockSplitter {
  constructor() {
    /** @type {string[]} the finished lines of the block in progress (without their "\n") */
    this.lines = [];
    /** @type {string[]} the pieces of the line being written (no "\n" yet) */
    this.pieces = [];
    /** The length of the line being written. */
    this.lineLength = 0;
    /** How long the block in progress is, in characters (its lines, their newlines and the open line). */
    this.tailLength = 0;
    /** True once a blank line ended the block's content (outside a fence). */
    this.sawBlank = false;
    /** True once the block has a line that is not blank. */
    this.hasContent = false;
    /** @type {{ char: string, len: number } | null} the fence the scan is inside, or null */
    this.fence = null;
    /** How many characters have been fed in all. */
    this.fed = 0;
  }

  /**
   * Feeds more text; returns the blocks it finished (each without its trailing blank lines), oldest first.
   * @param {string} chunk
   * @returns {string[]}
   */
  push(chunk) {
    /** @type {string[]} */
    const done = [];
    if (!chunk) return done;
    this.fed += chunk.length;
    let from = 0;
    while (from < chunk.length) {
      if (this.sawBlank && !this.fence && this.lineLength === 0) {
        // The first character of a line after a blank line decides whether the block is over.
        const c = chunk.charCodeAt(from);
        // 32 space, 9 tab, 10 newline, 13 carriage return: not a line that starts a new block.
        if (c !== 32 && c !== 9 && c !== 10 && c !== 13) done.push(this.takeBlock());
      }
      const nl = chunk.indexOf('\n', from);
      if (nl < 0) {
        const rest = from === 0 ? chunk : chunk.slice(from);
        this.pieces.push(rest);
        this.lineLength += rest.length;
        this.tailLength += rest.length;
        break;
      }
      this.pieces.push(chunk.slice(from, nl));
      const line = this.pieces.length === 1 ? this.pieces[0] : this.pieces.join('');
      this.tailLength += nl + 1 - from;
      this.pieces = [];
      this.lineLength = 0;
      this.lines.push(line);
      this.classify(line);
      from = nl + 1;
    }
    return done;
  }

  /** Hands over the finished lines as a block and starts a new one. */
  takeBlock() {
    const block = trimEnd(this.lines.join('\n'));
    this.lines = [];
    this.tailLength = 0;
    this.sawBlank = false;
    this.hasContent = false;
    return block;
  }

  /**
   * Ends the text: returns what is left as the last block ([] when nothing is left), and starts over.
   * @returns {string[]}
   */
  finish() {
    const rest = trimEnd(this.tail);
    this.lines = [];
    this.pieces = [];
    this.lineLength = 0;
    this.tailLength = 0;
    this.sawBlank = false;
    this.hasContent = false;
    this.fence = null;
    return rest.trim() === '' ? [] : [rest];
  }

  /** The unfinished block as it stands. */
  get tail() {
    const line = this.pieces.join('');
    return this.lines.length ? this.lines.join('\n') + '\n' + line : line;
  }

  /**
   * The unfinished block from `offset` (counted from its start) to its end, read from the end: the cost is the
   * length returned, not the block's.
   * @param {number} offset
   */
  tailFrom(offset) {
    let need = this.tailLength - Math.max(0, offset);
    if (need <= 0) return '';
    /** @type {string[]} */
    const out = [];
    for (let i = this.pieces.length - 1; i >= 0 && need > 0; i--) {
      const p = this.pieces[i];
      out.push(p.length <= need ? p : p.slice(p.length - need));
      need -= p.length;
    }
    for (let i = this.lines.length - 1; i >= 0 && need > 0; i--) {
      out.push('\n');
      need -= 1;
      if (need <= 0) break;
      const l = this.lines[i];
      out.push(l.length <= need ? l : l.slice(l.length - need));
      need -= l.length;
    }
    return out.reverse().join('');
  }

  /** The first characters of the unfinished block (up to n). @param {number} n */
  head(n) {
    if (this.lines.length) return this.lines[0].slice(0, n);
    let s = '';
    for (const p of this.pieces) {
      s += p;
      if (s.length >= n) break;
    }
    return s.slice(0, n);
  }

  /** True when the scan stands inside an open code fence. */
  get inFence() {
    return this.fence !== null;
  }

  /** @param {string} line a whole line, without its newline */
  classify(line) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (this.fence) {
      const m = FENCE_CLOSE.exec(line);
      if (m && m[1][0] === this.fence.char && m[1].length >= this.fence.len) this.fence = null;
      return;
    }
    if (line.trim() === '') {
      // A blank line before any content (the block's own start) is not an end.
      if (this.hasContent) this.sawBlank = true;
      return;
    }
    this.sawBlank = false;
    this.hasContent = true;
    const m = FENCE_OPEN.exec(line);
    if (m && !(m[1][0] === '`' && m[2].includes('`'))) this.fence = { char: m[1][0], len: m[1].length };
  }
}

/**
 * Splits a whole text into its blocks (the same rules as feeding it piece by piece).
 * @param {string} text
 * @returns {string[]}
 */
export function splitBlocks(text) {
  const s = new BlockSplitter();
  return [...s.push(text), ...s.finish()];
}

/** @param {string} s */
function trimEnd(s) {
  return s.replace(/\s+$/, '');
}
