import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BlockSplitter, splitBlocks } from '../../src/blocks.js';

/** Feeds text to a splitter in pieces of `size` characters; returns every block, the last included. */
function feed(text, size) {
  const s = new BlockSplitter();
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(...s.push(text.slice(i, i + size)));
  out.push(...s.finish());
  return out;
}

describe('markdown block splitter', () => {
  test('blank lines split paragraphs', () => {
    assert.deepEqual(splitBlocks('one\ntwo\n\nthree\n\n\nfour'), ['one\ntwo', 'three', 'four']);
  });

  test('a fence with blank lines inside stays one block', () => {
    const text = 'Here:\n\n```python\ndef f():\n\n    return 1\n\n\nprint(f())\n```\n\nAfter.';
    assert.deepEqual(splitBlocks(text), ['Here:', '```python\ndef f():\n\n    return 1\n\n\nprint(f())\n```', 'After.']);
  });

  test('a tilde fence, and a longer closing fence; a shorter one does not close', () => {
    const text = '~~~\na\n\n```\nstill code\n\n~~\nmore\n~~~~\n\nout';
    assert.deepEqual(splitBlocks(text), ['~~~\na\n\n```\nstill code\n\n~~\nmore\n~~~~', 'out']);
    const ticks = '````md\n```\ninner\n\n```\n````\n\nnext';
    assert.deepEqual(splitBlocks(ticks), ['````md\n```\ninner\n\n```\n````', 'next']);
  });

  test('an unclosed fence runs to the end as one block', () => {
    assert.deepEqual(splitBlocks('intro\n\n```js\nlet a;\n\nlet b;'), ['intro', '```js\nlet a;\n\nlet b;']);
  });

  test('an indented line after a blank line continues the block (list item, indented code)', () => {
    const text = '1. first\n\n   more of first\n2. second\n\nnext para';
    assert.deepEqual(splitBlocks(text), ['1. first\n\n   more of first\n2. second', 'next para']);
  });

  test('feeding one character at a time gives the same blocks as the whole text', () => {
    const text = '# Title\n\nSome *text*\nover lines.\n\n```js\nconst x = 1;\n\n\nconsole.log(x);\n```\n\n- a\n- b\n\n    indented code\n\nend\n';
    const whole = splitBlocks(text);
    assert.deepEqual(feed(text, 1), whole);
    assert.deepEqual(feed(text, 3), whole);
    assert.deepEqual(feed(text, 7), whole);
    assert.equal(whole.length, 5);
  });

  test('a block is handed over once the next block starts, not before', () => {
    const s = new BlockSplitter();
    assert.deepEqual(s.push('para one\n'), []);
    assert.deepEqual(s.push('\n'), []);
    assert.equal(s.tail, 'para one\n\n');
    assert.deepEqual(s.push('p'), ['para one'], 'the first letter in column 0 finishes the block');
    assert.equal(s.tail, 'p');
    assert.deepEqual(s.push('ara two'), []);
    assert.deepEqual(s.finish(), ['para two']);
  });

  test('fed - tailLength is where the unfinished block starts in the text fed', () => {
    const text = 'alpha\n\nbeta gamma\n\n```\ncode\n\nmore';
    const s = new BlockSplitter();
    let fed = '';
    for (const piece of text.match(/[\s\S]{1,3}/g)) {
      s.push(piece);
      fed += piece;
      assert.equal(fed.slice(s.fed - s.tailLength), s.tail);
    }
    assert.equal(s.tail, '```\ncode\n\nmore');
  });

  test('inFence tells whether the unfinished block is inside a fence', () => {
    const s = new BlockSplitter();
    s.push('```\ncode\n');
    assert.equal(s.inFence, true);
    s.push('```\n');
    assert.equal(s.inFence, false);
  });

  test('leading blank lines and CRLF line ends', () => {
    assert.deepEqual(splitBlocks('\n\n\r\nfirst\r\n\r\nsecond\r\n'), ['\n\n\r\nfirst', 'second']);
  });

  test('a backtick line whose info string has a backtick is not a fence', () => {
    assert.deepEqual(splitBlocks('```a`b\n\nnext'), ['```a`b', 'next']);
  });

  test('one 100,000-word line fed a word at a time stays linear', () => {
    const s = new BlockSplitter();
    const t0 = Date.now();
    for (let i = 1; i <= 100000; i++) s.push((i > 1 ? ' word' : 'word') + i);
    assert.ok(Date.now() - t0 < 5000);
    const [block] = s.finish();
    assert.ok(block.startsWith('word1 word2 '));
    assert.ok(block.endsWith(' word100000'));
  });
});
