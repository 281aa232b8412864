import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { paletteColor } from '../../tailapp/static/js/sgr.js';
import { Terminal, cellCount, cellWidth } from '../../tailapp/static/js/term.js';

function rows(log) {
  const t = new Terminal();
  for (const line of log.split('\n').slice(0, -1)) t.write(line);
  const out = t.rows.map((_, i) => t.text(i).replace(/ +$/, ''));
  while (out.length && !out[out.length - 1]) out.pop();
  return out;
}

function term(...lines) {
  const t = new Terminal();
  for (const line of lines) t.write(line);
  return t;
}

// Expectations checked against pyte (tests/test_terminal.py runs the same model on the fixtures).
test('carriage return overwrites in place and keeps what it does not cover', () => {
  assert.deepEqual(rows('Downloading 10%\rDownloading 50%\n'), ['Downloading 50%']);
  assert.deepEqual(rows('abcdef\rXY\n'), ['XYcdef']);
  assert.deepEqual(rows('ab\bc\n'), ['ac']);
});

test('cursor movement redraws earlier rows instead of adding rows', () => {
  assert.deepEqual(rows('1\n2\n3\n\x1b[2A\x1b[2Kx\n\x1b[1Bz\n'), ['1', 'x', '3', 'z']);
  assert.deepEqual(rows('abc\x1b[2Dx\n'), ['axc']);
  assert.deepEqual(rows('q\x1b[5Bw\n'), ['q', '', '', '', '', ' w']);
  assert.deepEqual(rows('\x1b[3;5Hhi\n'), ['', '', '    hi']);
  assert.deepEqual(rows('a\nb\n\x1b[2F-\x1b[1E+\n'), ['-', '+']);
  assert.deepEqual(rows('abcdef\x1b[3Gx\n'), ['abxdef']);
  assert.deepEqual(rows('a\n\x1b[9Ab\n'), ['b']);
});

test('erase in line and in display', () => {
  assert.deepEqual(rows('abcdef\x1b[3G\x1b[K\n'), ['ab']);
  assert.deepEqual(rows('abcdef\x1b[3G\x1b[1K\n'), ['   def']);
  assert.deepEqual(rows('abcdef\x1b[2K\n'), []);
  assert.deepEqual(rows('one\ntwo\nthree\x1b[1J\n'), []);
  assert.deepEqual(rows('one\ntwo\nthree\x1b[2A\x1b[J\n'), ['one']);
  assert.deepEqual(rows('one\ntwo\x1b[2J\nthree\n'), ['', '', 'three']);
});

test('save and restore the cursor, both spellings', () => {
  assert.deepEqual(rows('x\x1b7y\n\x1b8z\n'), ['xz']);
  assert.deepEqual(rows('x\x1b[sy\nw\n\x1b[uz\n'), ['xz', 'w']);
});

test('tabs, wide characters and combining marks', () => {
  assert.deepEqual(rows('a\tb\n'), ['a       b']);
  assert.equal(cellWidth('中'.codePointAt(0)), 2);
  assert.equal(cellWidth('😀'.codePointAt(0)), 2);
  assert.equal(cellWidth(0x301), 0);
  assert.deepEqual(rows('中文ab\rX\n'), ['X 文ab']);
  assert.deepEqual(rows('中文ab\x1b[5GZ\n'), ['中文Zb']);
  assert.deepEqual(rows('e\u0301x\rE\n'), ['Ex']);
});

test('everything else is swallowed', () => {
  assert.deepEqual(rows('\x1b]0;title\x07t\x1b[?25l\x1b[?2004h\x1b(B\x1b=\x07\x1bPdcs\x1b\\ok\n'), ['tok']);
  assert.deepEqual(rows('\x1b[1;24r\x1b[6n\x1b[>0ca\n'), ['a']);
});

test('rows redrawn are reported, new rows are not', () => {
  const t = term('a', 'b', 'c');
  assert.deepEqual(t.takeChanged(), []);
  t.write('\x1b[2A\x1b[2Kx');
  assert.deepEqual(t.takeChanged(), [1]);
  assert.equal(t.length, 3);
  assert.equal(t.text(1), 'x');
});

test('SGR colours: 16 as classes, 256 and 24-bit as styles, attributes, inverse', () => {
  const t = term('\x1b[31mred\x1b[0m \x1b[1;4;9mbus\x1b[m', '\x1b[38;5;196mA\x1b[48;2;1;2;3mB\x1b[38:2::10:20:30mC', '\x1b[0;7mI\x1b[2;3mF');
  assert.equal(t.html(0), '<span class="ansi-red-fg">red</span> <span class="ansi-bold ansi-underline ansi-strike">bus</span>');
  assert.equal(t.html(1), '<span style="color:#ff0000">A</span><span style="color:#ff0000;background-color:#010203">B</span><span style="color:#0a141e;background-color:#010203">C</span>');
  assert.equal(t.html(2), '<span class="inv-fg inv-bg">I</span><span class="inv-fg inv-bg ansi-faint ansi-italic">F</span>');
  assert.equal(paletteColor(16), '#000000');
  assert.equal(paletteColor(231), '#ffffff');
  assert.equal(paletteColor(244), '#808080');
});

test('style carries over lines and survives redraws of other cells', () => {
  const t = term('\x1b[32mgreen', 'still', '\x1b[0mplain', '\x1b[2A\x1b[3Cx');
  assert.equal(t.html(1), '<span class="ansi-green-fg">sti</span>x<span class="ansi-green-fg">l</span>');
  assert.equal(t.html(2), 'plain');
});

test('OSC 8 links: http and https become links, other schemes stay text', () => {
  const t = term('\x1b]8;;https://example.com/a?b=1&c\x1b\\site\x1b]8;;\x1b\\ \x1b]8;;javascript:alert(1)\x07js\x1b]8;;\x07');
  assert.equal(t.html(0), '<a href="https://example.com/a?b=1&amp;c" rel="noopener noreferrer nofollow" target="_blank">site</a> js');
});

test('HTML in log text is escaped', () => {
  const t = term('\x1b[31m<img src=x onerror="x()">\x1b[0m', '<b>&</b>');
  assert.equal(t.html(0), '<span class="ansi-red-fg">&lt;img src=x onerror=&quot;x()&quot;&gt;</span>');
  assert.equal(t.html(1), '&lt;b&gt;&amp;&lt;/b&gt;');
});

const FIXTURES = new URL('../fixtures/terminal/', import.meta.url);

test('every fixture renders as the oracle (pyte) shows it', () => {
  const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.raw')).map((f) => f.slice(0, -4));
  assert.equal(names.length, 9);
  for (const name of names) {
    const golden = readFileSync(new URL(`${name}.txt`, FIXTURES), 'utf8').split('\n').slice(0, -1);
    const raw = readFileSync(new URL(`${name}.raw`, FIXTURES), 'utf8');
    assert.deepEqual(rows(raw), golden, name);
  }
});

test('wide characters are boxed two cells wide, so columns line up in any font', () => {
  const t = term('│ 日本 │', '\x1b[31m中\x1b[0mé😀');
  assert.equal(t.html(0), '│ <span class="wide">日</span><span class="wide">本</span> │');
  assert.equal(t.html(1), '<span class="ansi-red-fg"><span class="wide">中</span></span>é<span class="wide">😀</span>');
});

test('a coloured line ending in a reset leaves the default style; one ending in a colour carries it on', () => {
  const t = term('\x1b[1;31mbold red\x1b[32m green \x1b[0m', 'plain', '\x1b[33myellow \x1b[4m', 'still yellow', 'x\x1b[m', 'y');
  assert.equal(t.html(1), 'plain');
  assert.match(t.html(3), /^<span class="[^"]*ansi-yellow-fg[^"]*">still yellow<\/span>$/);
  assert.equal(t.html(5), 'y');
});

test('a row is measured in cells: wide characters two, combining marks none', () => {
  assert.equal(cellCount('plain text'), 10);
  assert.equal(cellCount('\u6f22\u5b57ab'), 6);
  assert.equal(cellCount('\u{1f680}!'), 3);
  assert.equal(cellCount('e\u0301'), 1);
});
