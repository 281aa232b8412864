// Feeds generated lines into the viewer modules without a server. Query: ?lines=N&live=RATE&seconds=S
import { LineStore } from '/static/js/lines.js';
import { Sections } from '/static/js/sections.js';
import { LogView } from '/static/js/render.js';
import { Search } from '/static/js/search.js';
import { FollowControl, TimestampControl } from '/static/js/controls.js';
import { Permalinks } from '/static/js/permalink.js';

const params = new URLSearchParams(location.search);
const TOTAL = Number(params.get('lines') ?? 2000);
const LIVE_RATE = Number(params.get('live') ?? 0);
const LIVE_SECONDS = Number(params.get('seconds') ?? 10);
const BATCH = 1000;

const C = (n) => `\x1b[${n}m`;
const WORDS = ['compiling', 'linking', 'fetching', 'resolving', 'testing', 'packing', 'uploading'];

function line(i) {
  const n = i + 1;
  if (n === 5) return '<img src=x onerror="window.__xss=1">';
  if (n === 6) return `${C(31)}this red style starts here and`;
  if (n === 7) return `carries onto the next line${C(0)}`;
  if (n === 8) return 'Downloading  10%\r Downloading  50%\r\x1b[32mDownloading 100%\x1b[0m done';
  if (n === 9) return 'cursor\x1b[2K\x1b[1Gmoves \x1b]0;window title\x07and OSC stripped\x1b[?25h';
  if (n % 500 === 10) return `::group::Step ${Math.floor(n / 500) + 1}: ${WORDS[n % 7]}`;
  if (n % 500 === 60) return '::endgroup::';
  if (n === 70) return 'travis_fold:start:install\r\x1b[0K$ pip install -r requirements.txt';
  if (n === 80) return 'travis_fold:end:install\r\x1b[0K';
  const w = WORDS[n % WORDS.length];
  return `${C(90)}[${String(n).padStart(6, '0')}]${C(0)} ${C(1)}${C(34)}${w}${C(0)} module_${n % 977}.py `
    + `${C(32)}ok${C(0)} ${C(33)}${(n % 97) / 10}s${C(0)} needle${n % 1000 === 0 ? 'XYZ' : ''} lorem ipsum dolor sit amet`;
}

function batch(from, count, t0, rate) {
  const lines = [];
  const times = [];
  for (let i = from; i < from + count; i++) { lines.push(line(i)); times.push(t0 + (rate ? (i * 1000) / rate : i * 5)); }
  return { lines, times };
}

const store = new LineStore();
const sections = new Sections(store);
const view = new LogView(document.getElementById('log'), store, sections);
const search = new Search(view, {
  input: document.getElementById('search-input'), count: document.getElementById('search-count'),
  prev: document.getElementById('search-prev'), next: document.getElementById('search-next'),
});
new FollowControl(view, document.getElementById('follow'));
const START = Date.now() - 600000;
new TimestampControl(view, document.getElementById('ts-mode'), START);
new Permalinks(view);

const h = { store, sections, view, search, done: false, endShownAt: null, t0: 0, frameMax: 0, liveFrameMax: 0 };
window.__harness = h;

// The viewer's own work per frame, to tell its cost apart from the machine's (GC, other processes).
const frame = view.frame.bind(view);
view.frame = () => {
  const t = performance.now();
  frame();
  const dt = performance.now() - t;
  if (h.liveStartedAt) h.liveFrameMax = Math.max(h.liveFrameMax, dt); else h.frameMax = Math.max(h.frameMax, dt);
};

// Pre-generate the backlog so that timing covers the viewer only, then deliver it like socket events.
const backlog = [];
for (let i = 0; i < TOTAL; i += BATCH) backlog.push(batch(i, Math.min(BATCH, TOTAL - i), START, 0));
h.t0 = performance.now();
// One batch per macrotask, like socket messages arriving; MessageChannel avoids setTimeout's 4 ms clamp.
let k = 0;
const channel = new MessageChannel();
channel.port1.onmessage = () => {
  if (k < backlog.length) { view.append(backlog[k].lines, backlog[k].times); k++; channel.port2.postMessage(0); }
};
channel.port2.postMessage(0);
view.onFrame(() => {
  if (!h.done && store.length === TOTAL && (view.els.has(TOTAL - 1) || !view.follow)) {
    if (view.els.has(TOTAL - 1)) h.endShownAt = performance.now() - h.t0;
    h.done = true;
    if (LIVE_RATE) startLive();
  }
});

function startLive() {
  let next = TOTAL;
  const stopAt = performance.now() + LIVE_SECONDS * 1000;
  const started = performance.now();
  h.liveStartedAt = started;
  h.liveDone = false;
  const timer = setInterval(() => {
    const due = TOTAL + Math.floor(((performance.now() - started) * LIVE_RATE) / 1000);
    if (due > next) { const b = batch(next, due - next, Date.now(), 0); view.append(b.lines, b.times); next = due; }
    if (performance.now() > stopAt) { clearInterval(timer); h.liveDone = true; h.liveLines = next - TOTAL; }
  }, 20);
}
