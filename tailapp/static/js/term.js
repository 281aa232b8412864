// The terminal model: raw log lines in, rendered rows out, as a terminal as wide and as tall as the log
// would show them. Rows are only ever added, never removed, so a row number is a stable line number.
import { eastAsianWidth } from '../../vendor/get-east-asian-width/index.js';
import { escapeHtml } from './ansi.js';
import { DEFAULT, applySgr, sgrParams, spanHtml, styleKey } from './sgr.js';

// A line that needs no parsing: printable Latin text only (most build output); or that and colours.
const SIMPLE = /^[\x20-\x7e\u00a0-\u02ff]*$/;
const COLOURED = /^(?:[\x20-\x7e\u00a0-\u02ff]|\x1b\[[0-9;:]*m)*$/;
const SGR = /\x1b\[([0-9;:]*)m/g;
// One token: printable text, CSI, OSC, DCS/SOS/PM/APC string, other ESC sequence, or one control.
const TOKEN = /([^\x00-\x1f\x7f-\x9f]+)|\x1b\[([0-?]*)([ -/]*)([@-~])|\x1b\]([^\x07\x1b]*)(?:\x07|\x1b\\|$)|\x1b[PX^_][^\x1b]*(?:\x1b\\|$)|\x1b([ -/]*)([0-~]?)|([\x00-\x1f\x7f-\x9f])/y;
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cf}]/u;
const TAB = 8;
const widths = new Map(); // code point -> cells, for the few non-Latin characters a log uses

/** Cells a code point takes: 0 (combining, format), 1, or 2 (wide CJK, emoji). */
export function cellWidth(cp) {
  if (cp < 0x300) return 1;
  let w = widths.get(cp);
  if (w === undefined) {
    w = ZERO_WIDTH.test(String.fromCodePoint(cp)) ? 0 : eastAsianWidth(cp);
    widths.set(cp, w);
  }
  return w;
}

/** Cells a row's text takes on screen: wide characters two, combining marks none. */
export function cellCount(text) {
  if (SIMPLE.test(text)) return text.length;
  let n = 0;
  for (const ch of text) n += cellWidth(ch.codePointAt(0));
  return n;
}

/** Rows of a log as a terminal draws them. Feed raw lines with write(); read rows with text(), html(). */
export class Terminal {
  constructor() {
    this.rows = [];            // packed rows: {text, runs}; runs = [offset, styleId, …] or null (default style)
    this.open = new Map();     // row -> {chars, sty}: rows being drawn on during one write()
    this.x = 0;
    this.y = 0;
    this.style = 0;
    this.styles = [DEFAULT];
    this.styleIds = new Map([[styleKey(DEFAULT), 0]]);
    this.saved = null;
    this.sgrNext = [];         // style id -> Map(SGR parameters -> style id): logs repeat a few changes
    this.changed = new Set();  // existing rows redrawn since takeChanged()
    this.lastRow = 0;          // the row the last written line ended on
  }

  get length() { return this.rows.length; }

  /** Process one raw log line and the newline that ended it. */
  write(line) {
    if (this.x === 0 && this.y === this.rows.length) {
      if (SIMPLE.test(line)) this.rows.push({ text: line, runs: this.style ? [0, this.style] : null });
      else if (COLOURED.test(line)) this.rows.push(this.colouredRow(line));  // styles resolved when drawn
      if (this.rows.length > this.y) { this.lastRow = this.y++; return; }
    }
    TOKEN.lastIndex = 0;
    let m;
    while (TOKEN.lastIndex < line.length && (m = TOKEN.exec(line))) {
      if (m[1] !== undefined) this.print(m[1]);
      else if (m[4] !== undefined) this.csi(m[2], m[3], m[4]);
      else if (m[5] !== undefined) this.osc(m[5]);
      else if (m[7] !== undefined) this.esc(m[6], m[7]);
      else if (m[8] !== undefined) this.control(m[8]);
    }
    this.lastRow = this.y;
    this.newline();
    this.pack();
  }

  /** A new row from a line of text and SGR sequences only: its text now, its style runs when needed. */
  colouredRow(line) {
    const from = this.style;
    let style = from;
    // A line that ends with a reset (most coloured build output) leaves the default style, whatever came before.
    if (line.endsWith('\x1b[0m') || line.endsWith('\x1b[m')) style = 0;
    else for (const code of line.match(SGR)) style = this.sgrStep(style, code.slice(2, -1));
    this.style = style;
    return { text: undefined, runs: null, src: line, from };  // one string kept per row, not two
  }

  /** Style runs of a row (worked out from the source line for rows made by colouredRow, then kept). */
  runsOf(row) {
    if (row.src === undefined) return row.runs;
    let text = '';
    let runs = null;
    let style = row.from;
    let pos = 0;
    const add = (piece) => {
      if (!piece) return;
      if (style && !text) runs = [0, style];
      else if (text && (runs ? runs[runs.length - 1] : 0) !== style) (runs ||= [0, 0]).push(text.length, style);
      text += piece;
    };
    SGR.lastIndex = 0;
    for (let m = SGR.exec(row.src); m; m = SGR.exec(row.src)) {
      add(row.src.slice(pos, m.index));
      style = this.sgrStep(style, m[1]);
      pos = SGR.lastIndex;
    }
    add(row.src.slice(pos));
    row.text = text;
    row.runs = runs;
    row.src = undefined;
    return runs;
  }

  /** Rows redrawn since the last call (not counting rows added since). */
  takeChanged() {
    const out = [...this.changed];
    this.changed.clear();
    return out;
  }

  /** The characters row i shows. */
  text(i) {
    const row = this.rows[i];
    return row.src === undefined ? row.text : row.src.replace(SGR, '');
  }

  /** Style object by id. */
  styleOf(id) { return this.styles[id]; }

  // -- cells ------------------------------------------------------------------------------------------
  cells(y) {
    let c = this.open.get(y);
    if (c) return c;
    while (this.rows.length <= y) this.rows.push({ text: '', runs: null });
    const row = this.rows[y];
    const runs = this.runsOf(row);
    c = unpack(row.text, runs);
    this.open.set(y, c);
    return c;
  }

  pack() {
    for (const [y, c] of this.open) {
      this.rows[y] = pack(c);
      this.changed.add(y);
    }
    this.open.clear();
  }

  print(text) {
    const { chars, sty } = this.cells(this.y);
    for (const ch of text) {
      const w = cellWidth(ch.codePointAt(0));
      const x = this.x;
      if (w === 0) { if (x > 0) chars[x - 1] += ch; continue; }
      for (let k = chars.length; k < x + w; k++) { chars[k] = ' '; sty[k] = 0; }
      // Writing over half of a wide character blanks its other half, as terminals do.
      if (chars[x] === '' && x > 0) chars[x - 1] = ' ';
      if (chars[x + w] === '') chars[x + w] = ' ';
      chars[x] = ch;
      sty[x] = this.style;
      if (w === 2) { chars[x + 1] = ''; sty[x + 1] = this.style; }
      this.x += w;
    }
  }

  newline() {
    if (this.rows.length <= this.y) this.cells(this.y);
    this.y += 1;
    this.x = 0;
  }

  eraseLine(mode) {
    if (this.y >= this.rows.length && !this.open.has(this.y)) return;
    const c = this.cells(this.y);
    if (mode === 0) { c.chars.length = Math.min(c.chars.length, this.x); c.sty.length = c.chars.length; return; }
    const end = mode === 1 ? Math.min(this.x + 1, c.chars.length) : c.chars.length;
    for (let k = 0; k < end; k++) { c.chars[k] = ' '; c.sty[k] = 0; }
    if (mode === 2) { c.chars.length = 0; c.sty.length = 0; }
  }

  eraseDisplay(mode) {
    const end = this.rows.length;
    const [from, to] = mode === 0 ? [this.y + 1, end] : mode === 1 ? [0, Math.min(this.y, end)] : [0, end];
    for (let r = from; r < to; r++) {
      if (this.rows[r].text === '' && !this.open.has(r)) continue;
      this.open.delete(r);
      this.rows[r] = { text: '', runs: null };
      this.changed.add(r);
    }
    if (mode === 0 || mode === 1) this.eraseLine(mode);
  }

  // -- sequences --------------------------------------------------------------------------------------
  control(ch) {
    if (ch === '\r') this.x = 0;
    else if (ch === '\b') this.x = Math.max(0, this.x - 1);
    else if (ch === '\t') this.x = (Math.floor(this.x / TAB) + 1) * TAB;
    else if (ch === '\x0b' || ch === '\x0c') this.newline();
  }

  esc(inter, final) {
    if (inter) return;                                  // charset designations and the like
    if (final === '7') this.saveCursor();
    else if (final === '8') this.restoreCursor();
    else if (final === 'D') this.y += 1;
    else if (final === 'E') this.newline();
    else if (final === 'M') this.y = Math.max(0, this.y - 1);
  }

  osc(body) {
    if (!body.startsWith('8;')) return;                 // titles, colours, clipboard…: swallowed
    const uri = body.slice(body.indexOf(';', 2) + 1);
    const link = /^https?:\/\/[^\s]+$/i.test(uri) ? uri : null;
    this.style = this.intern({ ...this.styles[this.style], link });
  }

  csi(params, inter, final) {
    if (inter || !/^[0-9;:]*$/.test(params)) return;   // private modes (?25l, ?2004h…) and the like
    if (final === 'm') { this.style = this.sgrStep(this.style, params); return; }
    const p = params.split(';').map((v) => Number(v) || 0);
    const n = Math.max(1, p[0] || 0);
    switch (final) {
      case 'A': this.y = Math.max(0, this.y - n); break;
      case 'B': case 'e': this.y += n; break;
      case 'C': case 'a': this.x += n; break;
      case 'D': this.x = Math.max(0, this.x - n); break;
      case 'E': this.y += n; this.x = 0; break;
      case 'F': this.y = Math.max(0, this.y - n); this.x = 0; break;
      case 'G': case '`': this.x = n - 1; break;
      case 'd': this.y = n - 1; break;
      case 'H': case 'f': this.y = n - 1; this.x = Math.max(1, p[1] || 0) - 1; break;
      case 'K': this.eraseLine(p[0] || 0); break;
      case 'J': this.eraseDisplay(p[0] || 0); break;
      case 'X': this.eraseChars(n); break;
      case 'P': this.deleteChars(n); break;
      case '@': this.insertChars(n); break;
      case 's': this.saveCursor(); break;
      case 'u': this.restoreCursor(); break;
      default: break;                                   // scroll regions, modes, reports: swallowed
    }
  }

  eraseChars(n) {
    const c = this.cells(this.y);
    for (let k = this.x; k < Math.min(this.x + n, c.chars.length); k++) { c.chars[k] = ' '; c.sty[k] = 0; }
  }

  deleteChars(n) {
    const c = this.cells(this.y);
    c.chars.splice(this.x, n);
    c.sty.splice(this.x, n);
  }

  insertChars(n) {
    const c = this.cells(this.y);
    if (this.x >= c.chars.length) return;
    c.chars.splice(this.x, 0, ...' '.repeat(n));
    c.sty.splice(this.x, 0, ...new Array(n).fill(0));
  }

  saveCursor() { this.saved = { x: this.x, y: this.y, style: this.style }; }

  restoreCursor() {
    const s = this.saved || { x: 0, y: 0, style: 0 };
    this.x = s.x; this.y = s.y; this.style = s.style;
  }

  /** The style that SGR `params` turn style id `from` into. */
  sgrStep(from, params) {
    const next = this.sgrNext[from] || (this.sgrNext[from] = new Map());
    let id = next.get(params);
    if (id === undefined) {
      id = this.intern(applySgr(this.styles[from], sgrParams(params)));
      next.set(params, id);
    }
    return id;
  }

  /** The id of a style, added to the table when new. */
  intern(s) {
    const key = styleKey(s);
    let id = this.styleIds.get(key);
    if (id === undefined) {
      id = this.styles.length;
      this.styles.push(Object.freeze(s));
      this.styleIds.set(key, id);
    }
    return id;
  }

  // -- output -----------------------------------------------------------------------------------------
  /** Escaped HTML of row i: spans with classes (16 colours, attributes) and styles (256 and 24-bit). */
  html(i) {
    const row = this.rows[i];
    const runs = this.runsOf(row);
    const { text } = row;
    const cells = SIMPLE.test(text) ? escapeHtml : wideHtml;
    if (!runs) return cells(text);
    let out = '';
    for (let k = 0; k < runs.length; k += 2) {
      const piece = text.slice(runs[k], k + 2 < runs.length ? runs[k + 2] : text.length);
      if (piece) out += spanHtml(this.styles[runs[k + 1]], cells(piece));
    }
    return out;
  }
}

function unpack(text, runs) {
  if (SIMPLE.test(text)) {  // one cell per code unit: no widths to look up
    const chars = text.split('');
    const sty = new Array(chars.length).fill(0);
    for (let r = 0; runs && r < runs.length; r += 2) sty.fill(runs[r + 1], runs[r], r + 2 < runs.length ? runs[r + 2] : chars.length);
    return { chars, sty };
  }
  const chars = [];
  const sty = [];
  let r = 0;
  let style = 0;
  let offset = 0;
  for (const ch of text) {
    while (runs && r < runs.length && runs[r] <= offset) { style = runs[r + 1]; r += 2; }
    offset += ch.length;
    const w = cellWidth(ch.codePointAt(0));
    if (w === 0 && chars.length) { chars[chars.length - 1] += ch; continue; }
    chars.push(ch);
    sty.push(style);
    if (w === 2) { chars.push(''); sty.push(style); }
  }
  return { chars, sty };
}

function pack({ chars, sty }) {
  let runs = null;
  let style = 0;
  let offset = 0;
  for (let k = 0; k < chars.length; k++) {
    if (sty[k] !== style && chars[k] !== '') { (runs ||= [0, 0]).push(offset, sty[k]); style = sty[k]; }
    offset += chars[k].length;
  }
  return { text: chars.join(''), runs };
}

/** Escaped text with each wide character in a two-cell box, so columns line up whatever the font. */
function wideHtml(text) {
  return escapeHtml(text).replace(/[\u1100-\u{10ffff}]/gu,
    (ch) => (cellWidth(ch.codePointAt(0)) === 2 ? `<span class="wide">${ch}</span>` : ch));
}

