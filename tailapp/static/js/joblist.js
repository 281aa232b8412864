// The job table on /: live state badges, relative times and durations; new matching jobs at the top.
import { jobDuration } from './format.js';
import { isTerminal } from './protocol.js';
import { showProgress } from './controls.js';
import { showTime } from './when.js';

const MAX_ROWS = 200;
const PARAMS_SHOWN = 60;   // characters of the parameter summary; the rest is in its title

/** "lines=40 fail=false" for a job's parameters. */
export function paramSummary(params) {
  return Object.entries(params || {}).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
}

/** The filter a table was rendered with (data-task, data-states, data-q), as a predicate on job objects. */
export function filterOf(table) {
  const { task = '', states = '', q = '' } = table.dataset;
  const wanted = states ? states.split(',') : [];
  const text = q.toLowerCase();
  return (job) => (!task || job.task === task) && (!wanted.length || wanted.includes(job.state))
    && (!text || [job.id, ...paramSummary(job.params).split(' ')].join(' ').toLowerCase().includes(text));
}

/** Keeps #jobs-table in step with `job` events. */
export class JobList {
  constructor(table, emptyNote, jobs, titles = {}) {
    this.body = table.tBodies[0];
    this.emptyNote = emptyNote;
    this.titles = titles;
    this.matches = filterOf(table);
    this.live = table.dataset.live !== '0';   // older pages stay as they were listed
    this.jobs = new Map();
    for (const job of jobs) { this.jobs.set(job.id, job); this.fill(this.rowOf(job.id), job); }
    setInterval(() => this.tick(), 1000);
  }

  rowOf(id) {
    return Array.from(this.body.rows).find((tr) => tr.dataset.jobId === id) || null;
  }

  /** Apply one job object (a state change or a new job). */
  update(job) {
    const known = this.jobs.has(job.id);
    if (!known && !(this.live && this.matches(job))) return;
    this.jobs.set(job.id, { ...this.jobs.get(job.id), ...job });
    let tr = this.rowOf(job.id);
    if (!tr) tr = this.insert(job);
    this.fill(tr, this.jobs.get(job.id));
  }

  insert(job) {
    const tr = document.createElement('tr');
    tr.dataset.jobId = job.id;
    tr.className = 'new';
    const link = document.createElement('a');
    link.className = 'mono';
    link.href = `/jobs/${encodeURIComponent(job.id)}`;
    link.textContent = `#${job.id.slice(0, 8)}`;
    const cells = ['', 'task', 'state', 'params col-params', 'started', 'num duration', 'num exit col-exit'].map((cls) => {
      const td = document.createElement('td');
      if (cls) td.className = cls;
      return td;
    });
    cells[0].append(link);
    cells[1].textContent = job.title || this.titles[job.task] || job.task;
    const badge = document.createElement('span');
    cells[2].append(badge);
    cells[4].append(document.createElement('time'));
    tr.append(...cells);
    this.body.prepend(tr);
    while (this.body.rows.length > MAX_ROWS) this.body.deleteRow(-1);
    this.emptyNote.hidden = true;
    return tr;
  }

  fill(tr, job) {
    if (!tr) return;
    const badge = tr.cells[2].querySelector('.badge') || tr.cells[2].firstElementChild;
    badge.className = `badge badge-${job.state}`;
    badge.textContent = job.state;
    tr.dataset.state = job.state;
    showProgress(this.progressOf(tr), job);
    const summary = paramSummary(job.params);
    tr.cells[3].textContent = summary.length > PARAMS_SHOWN ? `${summary.slice(0, PARAMS_SHOWN - 1)}…` : summary;
    tr.cells[3].title = summary;
    showTime(tr.cells[4].querySelector('time'), job.started_at ?? job.created_at);
    tr.cells[5].textContent = jobDuration(job);
    tr.cells[6].textContent = job.exit_code ?? '';
    tr.cells[6].classList.toggle('bad', job.exit_code != null && job.exit_code !== 0);
  }

  /** The progress element of a row, made on first use. */
  progressOf(tr) {
    let el = tr.cells[2].querySelector('.job-progress');
    if (!el) {
      el = document.createElement('span');
      el.className = 'job-progress';
      el.append(document.createElement('progress'), document.createElement('span'));
      el.firstChild.max = 1;
      el.firstChild.setAttribute('aria-label', 'progress');
      tr.cells[2].append(' ', el);
    }
    return el;
  }

  tick() {
    for (const job of this.jobs.values()) this.fill(this.rowOf(job.id), job);
  }
}
