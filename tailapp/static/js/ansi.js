// Turns one raw log line into what a terminal would show. SGR colours go to ansi_up (which escapes
// HTML itself); everything else a terminal would act on rather than print is removed here first.
import { AnsiUp } from '../../vendor/ansi_up/ansi_up.js';

// CSI, OSC, DCS/SOS/PM/APC strings, other ESC sequences, and C0 controls except \t and \r.
const CONTROL = /\x1b\[([0-?]*)([ -/]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\|$)|\x1b[PX^_][^\x1b]*(?:\x1b\\|$)|\x1b[ -/]*[0-~]?|[\x00-\x08\x0b-\x0c\x0e-\x1a\x1c-\x1f\x7f]/g;
const SGR = /\x1b\[[0-9;]*m/g;
// Anything but plain SGR: when absent (most coloured lines) the line needs no cleaning.
const NEEDS_CLEANING = /\x1b(?!\[[0-9;]*m)|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]/;
const STATE_KEYS = ['fg', 'bg', 'bold', 'faint', 'italic', 'underline'];

function keepSgr(match, params, inter, final) {
  if (final === 'm' && !inter && /^[0-9;:]*$/.test(params)) return `\x1b[${params.replace(/:/g, ';')}m`;
  return '';
}

/** Line as shown: non-SGR controls removed; for `\r`, SGR before the last `\r` then the text after it. */
export function toDisplay(raw) {
  if (!NEEDS_CLEANING.test(raw)) return raw;
  let text = raw.replace(CONTROL, keepSgr);
  const cr = text.replace(/\r+$/, '').lastIndexOf('\r');
  if (cr !== -1) {
    const before = text.slice(0, cr).match(SGR);
    text = (before ? before.join('') : '') + text.slice(cr + 1).replace(/\r+$/, '');
  } else if (text.endsWith('\r')) {
    text = text.replace(/\r+$/, '');
  }
  return text;
}

/** Display text without its SGR sequences: the characters a reader sees (and searches). */
export function toPlain(display) {
  return display.indexOf('\x1b') === -1 ? display : display.replace(SGR, '');
}

/** A stateful colour renderer; style carries from one line to the next as in a terminal. */
export class AnsiRenderer {
  constructor() {
    this.au = new AnsiUp();
    this.au.use_classes = true;
    this.au.escape_html = true;
  }

  /** Current style, or null for the default style (most lines). */
  get state() {
    const au = this.au;
    if (!au.fg && !au.bg && !au.bold && !au.faint && !au.italic && !au.underline) return null;
    const s = {};
    for (const k of STATE_KEYS) s[k] = au[k];
    return s;
  }

  set state(s) {
    const au = this.au;
    for (const k of STATE_KEYS) au[k] = s ? s[k] : (k === 'fg' || k === 'bg' ? null : false);
  }

  /** Advance the style over a display line without building HTML. */
  advance(display) {
    const last = display.lastIndexOf('\x1b[');
    if (last === -1) return;
    if (display.startsWith('\x1b[0m', last) || display.startsWith('\x1b[m', last)) {
      this.state = null; // a line that ends by resetting leaves the default style, whatever came before
      return;
    }
    const codes = display.match(SGR);
    if (codes) this.html(codes.join(''));
  }

  /** HTML for a display line, starting from the current style. */
  html(display) {
    const out = this.au.ansi_to_html(display);
    this.au._buffer = ''; // never let a half sequence leak into the next line
    return out;
  }
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' };

/** Escape text we put into HTML ourselves (section titles, search terms). */
export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}
