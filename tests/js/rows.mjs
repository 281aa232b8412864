// Test helper: a JSON array of logs on stdin, the rows term.js draws for each as JSON on stdout.
import { readFileSync } from 'node:fs';
import { Terminal } from '../../tailapp/static/js/term.js';

const out = JSON.parse(readFileSync(0, 'utf8')).map((log) => {
  const t = new Terminal();
  for (const line of log.split('\n').slice(0, -1)) t.write(line);
  return t.rows.map((_, i) => t.text(i));
});
process.stdout.write(JSON.stringify(out));
