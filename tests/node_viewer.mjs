// A stock socket.io-client viewer (node_modules, as npm installs it) for tests/test_hostile.py, without
// WebSocket compression (which hid cut frames: deflated frames stayed small enough):
// node tests/node_viewer.mjs <url> <job id> [defaults]; prints {"lines", "unique", "first", "last", "state"} as
// JSON. "defaults": the client's own options (long-polling first, then the upgrade; permessage-deflate offered).
import { io } from 'socket.io-client';

const [url, job, mode] = process.argv.slice(2);
const seen = new Set();
let lines = 0;
let done = false;
const options = mode === 'defaults' ? {} : { transports: ['websocket'], perMessageDeflate: false };
const socket = io(`${url}/tail`, { ...options, reconnection: false });
const finish = (state, code = 0) => {
  if (done) return; // close() below fires 'disconnect'
  done = true;
  const seqs = [...seen];
  console.log(JSON.stringify({ lines, unique: seen.size, first: Math.min(...seqs), last: Math.max(...seqs), state }));
  socket.close();
  process.exit(code);
};
socket.on('lines', (msg) => {
  msg.lines.forEach((_, i) => seen.add(msg.seq + i));
  lines += msg.lines.length;
});
socket.on('job', (j) => { if (['succeeded', 'failed', 'cancelled', 'lost'].includes(j.state)) finish(j.state); });
socket.on('disconnect', (reason) => finish(`disconnected: ${reason}`, 1));
socket.on('connect_error', (err) => finish(`connect_error: ${err.message}`, 1));
socket.on('connect', () => {
  socket.emit('subscribe', { job, after: 0 }, (ack) => { if (!ack.ok) finish(`refused: ${ack.error}`, 1); });
});
setTimeout(() => finish('timed out', 1), 90_000);
