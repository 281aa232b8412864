// Small text helpers shared by the terminal model, sections and search.

const SGR = /\x1b\[[0-9;:]*m/g;

/** Text without its SGR sequences (marker lines are matched on this). */
export function toPlain(text) {
  return text.indexOf('\x1b') === -1 ? text : text.replace(SGR, '');
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' };

/** Escape text we put into HTML (log text, section titles, search terms, link targets). */
export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}
