import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml, toPlain } from '../../tailapp/static/js/ansi.js';

test('toPlain drops SGR sequences only', () => {
  assert.equal(toPlain('\x1b[1;31mred\x1b[0m \x1b[38:5:2mx'), 'red x');
  assert.equal(toPlain('plain'), 'plain');
});

test('HTML special characters are escaped', () => {
  assert.equal(escapeHtml(`<a href='x'>&</a>`), '&lt;a href=&#x27;x&#x27;&gt;&amp;&lt;/a&gt;');
  assert.equal(escapeHtml('"q"'), '&quot;q&quot;');
});
