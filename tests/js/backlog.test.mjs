import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLines } from '../../tailapp/static/js/backlog.js';

test('bulk backlog lines parse into texts and times, up to the last newline, empty texts kept', () => {
  const text = '1700000000123 first line\n1700000000124 \n1700000000125 a \u2713 b\n17000000';
  const [texts, times] = parseLines(text, 0, text.lastIndexOf('\n'));
  assert.deepEqual(texts, ['first line', '', 'a \u2713 b']);
  assert.deepEqual(times, [1700000000123, 1700000000124, 1700000000125]);
});

test('parsing from an offset appends to the arrays given', () => {
  const texts = ['x'];
  const times = [1];
  const text = 'cut tail\n5 y\n6 z\n';
  parseLines(text, text.indexOf('\n') + 1, text.lastIndexOf('\n'), texts, times);
  assert.deepEqual([texts, times], [['x', 'y', 'z'], [1, 5, 6]]);
});
