import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classify, compile, ERROR, locationOf, lowerBound, NONE, WARNING } from '../../tailapp/static/js/errors.js';

const patterns = {
  error: compile(['\\b(error|fatal|failed)\\b', '^Traceback \\(most recent call last\\)']),
  warning: compile(['\\bwarn(ing)?\\b']),
};

test('markers, tailapp failure lines and patterns give a level', () => {
  assert.equal(classify('::error file=a.py,line=1::boom', patterns), ERROR);
  assert.equal(classify('  ::warning::old', patterns), WARNING);
  assert.equal(classify('::warning::an error in the text', patterns), WARNING);  // the marker decides
  assert.equal(classify('\u25a0 Job stopped: it ran past its time limit.', patterns), ERROR);
  assert.equal(classify('\u25a0 Job cancelled.', patterns), NONE);
  assert.equal(classify('src/x.c:3: ERROR: no', patterns), ERROR);
  assert.equal(classify('Traceback (most recent call last):', patterns), ERROR);
  assert.equal(classify('WARN disk at 90%', patterns), WARNING);
  assert.equal(classify('0 errors, 0 warnings', patterns), NONE);
  assert.equal(classify('all fine', { error: null, warning: null }), NONE);
});

test('a pattern that does not compile is left out, the rest still work', () => {
  const warned = [];
  const original = console.warn;
  console.warn = (m) => warned.push(m);
  try {
    const re = compile(['(unclosed', 'oops']);
    assert.ok(re.test('OOPS') && warned.length === 1);
    assert.equal(compile(['(']), null);
  } finally { console.warn = original; }
});

test('lowerBound finds the first index at or past a value', () => {
  const a = Int32Array.from([3, 7, 7, 10]);
  assert.deepEqual([0, 3, 4, 7, 8, 10, 11].map((v) => lowerBound(a, 4, v)), [0, 0, 1, 1, 3, 3, 4]);
});

test('slowestGaps keeps the longest silences, longest first, with the row that ended each', async () => {
  const { slowestGaps } = await import('../../tailapp/static/js/toolbar.js');
  const times = [0, 10, 500, 510, 520, 2520, 2521, 2600];
  assert.deepEqual(slowestGaps(times, 3), [{ line: 5, gap: 2000 }, { line: 2, gap: 490 }, { line: 7, gap: 79 }]);
  assert.deepEqual(slowestGaps([5], 3), []);
  assert.equal(slowestGaps(Array.from({ length: 1000 }, (_, i) => i * i), 10)[0].line, 999);
});

test('an annotation names its file, line and column; other rows name nothing', () => {
  assert.equal(locationOf('::error file=src/a.py,line=3,col=5::boom'), 'src/a.py:3:5');
  assert.equal(locationOf('  ::warning file=setup.cfg, line=7 ::old key'), 'setup.cfg:7');
  assert.equal(locationOf('::error file=a.c::x'), 'a.c');
  assert.equal(locationOf('::error line=3::no file'), '');
  assert.equal(locationOf('::error::plain'), '');
  assert.equal(locationOf('error file=a.c,line=1'), '');
});
