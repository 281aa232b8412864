import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineStore } from '../../tailapp/static/js/lines.js';
import { markerOf, progressOf, Sections } from '../../tailapp/static/js/sections.js';

function load(lines) {
  const store = new LineStore();
  const sections = new Sections(store);
  store.enqueue(lines, lines.map((_, i) => 1000 + i * 100));
  store.pump(1e9);
  return { store, sections, rows: () => Array.from({ length: sections.rowCount }, (_, r) => sections.lineAt(r)) };
}

test('markers of GitHub groups and Travis folds', () => {
  assert.deepEqual(markerOf('::group::Install deps'), { kind: 1, title: 'Install deps', travis: false });
  assert.equal(markerOf('\x1b[0m::endgroup::').kind, 2);
  assert.equal(markerOf('travis_fold:start:install\r\x1b[0K').name, 'install');
  assert.equal(markerOf('travis_fold:end:install\r\x1b[0K').kind, 2);
  assert.equal(markerOf('plain :: text'), null);
});

test('a finished section collapses, the running one stays open', () => {
  const { sections, rows } = load(['a', '::group::One', 'x', 'y', '::endgroup::', 'b', '::group::Two', 'z']);
  assert.deepEqual(rows(), [0, 1, 5, 6, 7]);
  const one = sections.headerAt(1);
  assert.deepEqual(sections.stats(one), { count: 2, duration: 300, running: false });
  assert.equal(sections.stats(sections.headerAt(6)).running, true);
});

test('expanding, collapsing and revealing rebuild the rows', () => {
  const { sections, rows } = load(['a', '::group::One', 'x', 'y', '::endgroup::', 'b']);
  sections.setCollapsed(sections.headerAt(1), false);
  assert.deepEqual(rows(), [0, 1, 2, 3, 4, 5]);
  sections.setCollapsed(sections.headerAt(1), true);
  assert.deepEqual(rows(), [0, 1, 5]);
  sections.reveal(3);
  assert.deepEqual(rows(), [0, 1, 2, 3, 4, 5]);
  assert.equal(sections.rowOf(3), 3);
});

test('nested travis folds close by name', () => {
  const { sections, rows } = load(['travis_fold:start:outer', 'travis_fold:start:inner', 'i',
    'travis_fold:end:outer', 'after']);
  assert.equal(sections.headerAt(1).end, 3);
  assert.equal(sections.headerAt(0).end, 3);
  assert.deepEqual(rows(), [0, 4]);
});

test('progress marker lines', () => {
  assert.deepEqual(progressOf('::progress::0.4 step 2 of 5'), { percent: 40, message: 'step 2 of 5' });
  assert.deepEqual(progressOf('\x1b[0m::progress::1'), { percent: 100, message: '' });
  assert.deepEqual(progressOf('::progress::7 over the top'), { percent: 100, message: 'over the top' });
  assert.equal(progressOf('echo ::progress::0.5 quoted in a command'), null);
  assert.equal(progressOf('::progress::soon'), null);
  assert.equal(progressOf('plain text'), null);
});
