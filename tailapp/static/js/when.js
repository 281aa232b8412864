// Times as people read them in a header: "3 min ago", with the absolute time (their zone) on hover.

const UNITS = [['year', 31536e6], ['month', 2592e6], ['day', 864e5], ['hour', 36e5], ['minute', 6e4], ['second', 1e3]];
const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const abs = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
});

/** "3 min ago" / "just now" for a Unix ms timestamp. */
export function relative(ms, now = Date.now()) {
  const d = ms - now;
  if (Math.abs(d) < 10e3) return 'just now';
  for (const [unit, size] of UNITS) {
    if (Math.abs(d) >= size || unit === 'second') return rtf.format(Math.round(d / size), unit);
  }
  return '';
}

/** "Nov 23, 2026, 7:03:07 PM UTC" in the viewer's locale and time zone. */
export function absolute(ms) {
  return abs.format(new Date(ms));
}

/** Fill a <time> element: relative text, absolute title, machine-readable datetime; `empty` when ms is null. */
export function showTime(el, ms, empty = '') {
  if (!el) return;
  if (ms == null) {
    el.textContent = empty;
    el.removeAttribute('title');
    el.removeAttribute('datetime');
    return;
  }
  el.textContent = relative(ms);
  el.title = absolute(ms);
  el.dateTime = new Date(ms).toISOString();
}
