import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHash, parseHash } from '../../tailapp/static/js/permalink.js';

test('line and range permalinks', () => {
  assert.deepEqual(parseHash('#L12'), { from: 11, to: 11 });
  assert.deepEqual(parseHash('#L20-L12'), { from: 11, to: 19 });
  assert.equal(parseHash('#L0'), null);
  assert.equal(parseHash('#top'), null);
  assert.equal(formatHash({ from: 11, to: 19 }), '#L12-L20');
  assert.equal(formatHash({ from: 4, to: 4 }), '#L5');
});
