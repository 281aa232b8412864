// Stock viewers for the user's-path bench: the npm `socket.io-client` (the same package the browser
// viewer uses), one Socket (own Manager, own websocket) per viewer, as a third-party client would.
//
//   node bench/stock_viewer.js '{"url": "http://127.0.0.1:5000", "jobs": ["<id>", ...], "expected": 1000,
//                               "everyLine": true, "deflate": true}'
//
// Speaks the /tail protocol of docs/PROTOCOL.md: subscribe {job, after} on every connect, `lines`
// {job, seq, lines, times} counted by seq (gaps, duplicates), `job` events, `resync` -> subscribe again
// from the last seq held. Prints "ready" once every subscribe is acknowledged, waits for "go <unix
// deadline>" on stdin, then prints one JSON line {cpu, viewers: [per viewer]} when every viewer holds
// `expected` lines or at the deadline (cpu: the seconds this process used). Lines starting with "<unix
// time> " give latency samples at receipt (every line with everyLine, else the first of each message).
'use strict';
const { io } = require('socket.io-client');
const readline = require('node:readline');

const opts = JSON.parse(process.argv[2]);
const now = () => (performance.timeOrigin + performance.now()) / 1000;

function stamp(text) {
  const sent = parseFloat(text.slice(0, text.indexOf(' ')));
  return Number.isFinite(sent) ? sent : null;
}

function viewer(job) {
  const t = { job, received: 0, messages: 0, first_stamp: null, last_stamp: null, last: 0, gaps: 0, duplicates: 0, resyncs: 0, jobEvents: 0, state: null,
    first_at: 0, last_at: 0, subscribed_at: 0, latencies: [], acked: false, errors: [] };
  // deflate false: the client does not offer permessage-deflate (stock clients and browsers do).
  const socket = io(`${opts.url}/tail`, { transports: ['websocket'], forceNew: true, reconnection: true,
    ...(opts.deflate === false ? { perMessageDeflate: false } : {}) });
  const subscribe = () => socket.emit('subscribe', { job, after: t.last }, (ack) => {
    if (ack && ack.ok) { t.acked = true; t.subscribed_at = t.subscribed_at || now(); } else t.errors.push(ack);
  });
  socket.on('connect', subscribe);
  socket.on('connect_error', (err) => t.errors.push(String(err)));
  socket.on('disconnect', (why) => t.errors.push(`disconnect: ${why}`));
  socket.on('resync', (msg) => { if (msg && msg.job === job) { t.resyncs += 1; subscribe(); } });
  socket.on('job', (j) => { if (j && j.id === job) { t.jobEvents += 1; t.state = j.state; } });
  socket.on('lines', (msg) => {
    const at = now();
    t.messages += 1;
    const end = msg.seq + msg.lines.length - 1;
    if (end <= t.last) { t.duplicates += msg.lines.length; return; }
    if (msg.seq > t.last + 1) t.gaps += msg.seq - t.last - 1;
    const skip = Math.max(0, t.last + 1 - msg.seq);
    t.duplicates += skip;
    const fresh = msg.lines.slice(skip);
    t.received += fresh.length;
    t.last = end;
    t.first_at = t.first_at || at;
    t.last_at = at;
    if (t.first_stamp === null) t.first_stamp = stamp(fresh[0]);
    t.last_stamp = stamp(fresh[fresh.length - 1]);
    for (const text of opts.everyLine ? fresh : fresh.slice(0, 1)) {
      const sent = stamp(text);
      if (sent !== null) t.latencies.push(at - sent);
    }
  });
  t.socket = socket;
  return t;
}

const tallies = opts.jobs.map(viewer);
const done = () => opts.expected > 0 && tallies.every((t) => t.received >= opts.expected);

function report() {
  const viewers = tallies.map(({ socket, acked, ...rest }) => rest);
  const { user, system } = process.cpuUsage();  // this process's CPU, read before it exits
  process.stdout.write(`${JSON.stringify({ cpu: (user + system) / 1e6, viewers })}\n`, () => process.exit(0));
  for (const t of tallies) t.socket.close();
}

const ready = setInterval(() => {
  if (tallies.every((t) => t.acked)) { clearInterval(ready); process.stdout.write('ready\n'); }
}, 5);

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [word, deadline] = line.split(' ');
  if (word !== 'go') return;
  const check = setInterval(() => {
    if (done() || now() >= Number(deadline)) { clearInterval(check); report(); }
  }, 10);
});
