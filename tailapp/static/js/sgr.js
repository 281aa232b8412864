// SGR: styles as the terminal model keeps them (interned by term.js), and their HTML.
import { escapeHtml } from './ansi.js';

export const BOLD = 1, FAINT = 2, ITALIC = 4, UNDERLINE = 8, STRIKE = 16, INVERSE = 32;
const FLAG_OF = { 1: BOLD, 2: FAINT, 3: ITALIC, 4: UNDERLINE, 7: INVERSE, 9: STRIKE, 21: UNDERLINE };
const FLAG_OFF = { 22: BOLD | FAINT, 23: ITALIC, 24: UNDERLINE, 27: INVERSE, 29: STRIKE };
const NAMES = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];
export const DEFAULT = Object.freeze({ fg: null, bg: null, flags: 0, link: null });

/** The colour of xterm's 256-colour index n (16 and above) as #rrggbb. */
export function paletteColor(n) {
  const hex = (v) => v.toString(16).padStart(2, '0');
  if (n >= 232) { const v = 8 + 10 * (n - 232); return `#${hex(v)}${hex(v)}${hex(v)}`; }
  const c = n - 16;
  const level = (k) => (k ? 55 + 40 * k : 0);
  return `#${hex(level(Math.floor(c / 36)))}${hex(level(Math.floor(c / 6) % 6))}${hex(level(c % 6))}`;
}

/** An extended colour (38/48) from SGR parameters at k: [colour, parameters used]. */
function extendedColor(params, k) {
  if (params[k + 1] === 5 && params.length > k + 2) return [params[k + 2] & 255, 3];
  if (params[k + 1] === 2 && params.length > k + 4) {
    const hex = (v) => Math.min(255, v).toString(16).padStart(2, '0');
    return [`#${hex(params[k + 2])}${hex(params[k + 3])}${hex(params[k + 4])}`, 5];
  }
  return [undefined, params.length - k];
}

/** SGR parameters as numbers; colon sub-parameters (38:2::r:g:b) become the usual 38;2;r;g;b. */
export function sgrParams(text) {
  if (text === '') return [0];
  const out = [];
  for (const group of text.split(';')) {
    if (group.indexOf(':') === -1) { out.push(Number(group) || 0); continue; }
    const sub = group.split(':').map((v) => Number(v) || 0);
    if (sub[0] === 4) { out.push(sub[1] === 0 ? 24 : 4); continue; } // 4:0 is "no underline", 4:3 curly
    if (sub[1] === 2 && sub.length >= 6) sub.splice(2, 1); // drop the colour-space id
    out.push(...sub);
  }
  return out;
}

/** A style with SGR parameters applied. */
export function applySgr(style, p) {
  const s = { ...style };
  for (let k = 0; k < p.length; k++) {
    const v = p[k];
    if (v === 0) { s.fg = null; s.bg = null; s.flags = 0; }
    else if (FLAG_OF[v]) s.flags |= FLAG_OF[v];
    else if (FLAG_OFF[v]) s.flags &= ~FLAG_OFF[v];
    else if (v >= 30 && v <= 37) s.fg = v - 30;
    else if (v >= 90 && v <= 97) s.fg = v - 82;
    else if (v >= 40 && v <= 47) s.bg = v - 40;
    else if (v >= 100 && v <= 107) s.bg = v - 92;
    else if (v === 39) s.fg = null;
    else if (v === 49) s.bg = null;
    else if (v === 38 || v === 48 || v === 58) {
      const [colour, used] = extendedColor(p, k);
      if (colour !== undefined && v !== 58) s[v === 38 ? 'fg' : 'bg'] = colour;
      k += used - 1;
    }
  }
  return s;
}

export function styleKey(s) { return `${s.fg}|${s.bg}|${s.flags}|${s.link}`; }

/** A run of text in style s as HTML (the text is escaped already). */
export function spanHtml(s, text) {
  if (s === DEFAULT || (s.fg === null && s.bg === null && !s.flags && !s.link)) return text;
  let [fg, bg] = [s.fg, s.bg];
  const classes = [];
  const css = [];
  if (s.flags & INVERSE) { [fg, bg] = [bg, fg]; if (fg === null) classes.push('inv-fg'); if (bg === null) classes.push('inv-bg'); }
  colourCss(fg, 'fg', 'color', classes, css);
  colourCss(bg, 'bg', 'background-color', classes, css);
  if (s.flags & BOLD) classes.push('ansi-bold');
  if (s.flags & FAINT) classes.push('ansi-faint');
  if (s.flags & ITALIC) classes.push('ansi-italic');
  if (s.flags & UNDERLINE) classes.push('ansi-underline');
  if (s.flags & STRIKE) classes.push('ansi-strike');
  const attrs = `${classes.length ? ` class="${classes.join(' ')}"` : ''}${css.length ? ` style="${css.join(';')}"` : ''}`;
  if (s.link) return `<a href="${escapeHtml(s.link)}" rel="noopener noreferrer nofollow" target="_blank"${attrs}>${text}</a>`;
  return `<span${attrs}>${text}</span>`;
}

function colourCss(c, kind, prop, classes, css) {
  if (c === null) return;
  if (typeof c === 'string') css.push(`${prop}:${c}`);
  else if (c < 16) classes.push(`ansi-${c >= 8 ? 'bright-' : ''}${NAMES[c % 8]}-${kind}`);
  else css.push(`${prop}:${paletteColor(c)}`);
}
