// The opening load of a big log: the lines already written come over HTTP in bulk ("<ms> <text>" per line,
// streamed), not line by line through Socket.IO; the live feed then follows from the last line received.
import { api } from './protocol.js';

/** Logs at least this long when the page opens load their backlog over HTTP. */
export const BULK_MIN_LINES = 2000;

/** Lines of `text` from `at` up to its last newline `end`, added to texts and times ("<ms> <text>" each). */
export function parseLines(text, at, end, texts = [], times = []) {
  while (at < end) {
    const nl = text.indexOf('\n', at);
    let ms = 0;
    let k = at;
    for (let c = text.charCodeAt(k); c >= 48 && c <= 57; c = text.charCodeAt(++k)) ms = ms * 10 + (c - 48);
    times.push(ms);
    texts.push(text.slice(k + 1, nl));  // a space follows the time
    at = nl + 1;
  }
  return [texts, times];
}

/**
 * Fetch a job's lines after `after` in bulk; onLines(texts, times) gets them in order, a chunk at a time.
 * Resolves to the seq of the last whole line received (never rejects: the live feed replays the rest).
 */
export async function loadBacklog(jobId, after, onLines) {
  let seq = after;
  try {
    const res = await fetch(`${api.backlog(jobId)}?after=${after}`, { credentials: 'same-origin' });
    if (!res.ok || !res.body) return seq;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let rest = '';  // a line cut by the chunk's end
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const first = value.indexOf('\n');
      if (first < 0) { rest += value; continue; }
      // Rows keep slices of the chunk itself: joining it to `rest` would copy every chunk once more.
      const [texts, times] = parseLines(rest + value.slice(0, first + 1), 0, rest.length + first);
      const end = value.lastIndexOf('\n');
      parseLines(value, first + 1, end, texts, times);
      rest = value.slice(end + 1);
      onLines(texts, times);
      seq += texts.length;
    }
  } catch (e) {
    console.warn('backlog load stopped; the live feed replays the rest', e);
  }
  return seq;
}
