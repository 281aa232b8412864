import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnsiRenderer, escapeHtml, toDisplay, toPlain } from '../../tailapp/static/js/ansi.js';

test('carriage returns keep only the text after the last one', () => {
  assert.equal(toPlain(toDisplay('Downloading 10%\rDownloading 50%\rDownloading 100%')), 'Downloading 100%');
  assert.equal(toPlain(toDisplay('windows line\r')), 'windows line');
});

test('SGR before the last carriage return still styles the text after it', () => {
  const r = new AnsiRenderer();
  assert.equal(r.html(toDisplay('\x1b[32m 10%\r 100%')), '<span class="ansi-green-fg"> 100%</span>');
});

test('non-SGR escapes are stripped, not shown', () => {
  assert.equal(toDisplay('a\x1b[Kb\x1b[2Ac'), 'abc');
  assert.equal(toDisplay('\x1b]0;title\x07after'), 'after');
  assert.equal(toDisplay('\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ z'), 'link z');
  assert.equal(toDisplay('\x1b7save\x1b8\x1b=k\x1b(B!'), 'savek!');
  assert.equal(toDisplay('\x1b[?25lhide\x1b[?25h bell\x07'), 'hide bell');
  assert.equal(toDisplay('\x1b[38:5:196mx'), '\x1b[38;5;196mx');
});

test('HTML in log text is escaped', () => {
  const r = new AnsiRenderer();
  assert.equal(r.html('<img src=x onerror="window.__xss=1">'), '&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;');
  assert.equal(escapeHtml(`<a href='x'>&</a>`), '&lt;a href=&#x27;x&#x27;&gt;&amp;&lt;/a&gt;');
});

test('style carries to the next line and a reset ends it', () => {
  const r = new AnsiRenderer();
  r.advance('\x1b[31mred starts');
  assert.equal(r.state.fg.class_name, 'ansi-red');
  assert.equal(r.html('still red'), '<span class="ansi-red-fg">still red</span>');
  r.advance('done\x1b[0m');
  assert.equal(r.state, null);
});
