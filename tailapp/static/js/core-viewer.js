// Minimal live log: replays the backlog, streams live lines, resumes from the last seq on reconnect.
import { io } from "/vendor/socket.io-client/dist/socket.io.esm.min.js";

const pane = document.getElementById("log");
const badge = document.getElementById("state");
const job = pane.dataset.job;
let last = 0;
const socket = io("/tail");

function subscribe() {
  socket.emit("subscribe", { job, after: last }, (ack) => {
    if (!ack.ok) pane.append(`error: ${ack.error}\n`);
  });
}

socket.on("connect", subscribe);
socket.on("resync", subscribe);
socket.on("lines", (msg) => {
  if (msg.job !== job) return;
  if (msg.seq > last + 1) return subscribe();
  const fresh = msg.lines.slice(Math.max(0, last + 1 - msg.seq));
  if (!fresh.length) return;
  pane.append(fresh.map((l) => l.split("\r").pop()).join("\n") + "\n"); // text nodes: never HTML
  last = msg.seq + msg.lines.length - 1;
  pane.dataset.last = String(last);
});
socket.on("job", (obj) => {
  if (obj.id === job) badge.textContent = obj.state;
});
