// Times and durations as people read them.

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** "1.2s", "3m 04s", "1h 02m" for a duration in ms. */
export function duration(ms) {
  if (ms == null || !isFinite(ms) || ms < 0) return '';
  if (ms < 10000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
}

/** Local wall-clock time "14:03:07.123" for a Unix ms timestamp. */
export function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** Elapsed "+01:02.345" (or "+1:02:03.456") since an origin, both Unix ms. */
export function elapsed(ms, origin) {
  const d = Math.max(0, ms - origin);
  const s = Math.floor(d / 1000);
  const h = Math.floor(s / 3600);
  const rest = `${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad(d % 1000, 3)}`;
  return h ? `+${h}:${rest}` : `+${rest}`;
}

/** "2024-11-22 14:03:07" for a Unix ms timestamp, or an empty string. */
export function dateTime(ms) {
  if (ms == null) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Duration of a job so far: from start to finish, or to now while it runs. */
export function jobDuration(job, now = Date.now()) {
  if (!job || job.started_at == null) return '';
  return duration((job.finished_at ?? now) - job.started_at);
}

/** "+85ms", "+2.4s", "+3m 04s": the time since the previous row. */
export function delta(ms) {
  if (ms == null || !isFinite(ms)) return '';
  return ms < 1000 ? `+${Math.max(0, Math.round(ms))}ms` : `+${duration(ms)}`;
}
