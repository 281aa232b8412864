// Bootstraps the live log page from #job-data: view, search, controls, and the Socket.IO feed.
import { pageData } from './api.js';
import { BULK_MIN_LINES, loadBacklog } from './backlog.js';
import { openSocket, JobFeed } from './connection.js';
import { FollowControl, JobActions, JobStatus, TimestampControl, ToolsMenu } from './controls.js';
import { copyLogText } from './copy.js';
import { ErrorMarks } from './errors.js';
import { LineStore } from './lines.js';
import { Permalinks } from './permalink.js';
import { isTerminal } from './protocol.js';
import { LogView } from './render.js';
import { Search } from './search.js';
import { SectionList } from './sectionlist.js';
import { TailPreview } from './tail.js';
import { Sections } from './sections.js';
import { delta } from './format.js';
import { showFavicon, tabTitle } from './states.js';
import { GapList, GroupButtons, WrapToggle } from './toolbar.js';

const $ = (id) => document.getElementById(id);

/** "cancelled by <name> via <how>", once a job event says who cancelled it (text only, never markup). */
function showCancelledBy(job) {
  const el = $('job-cancelled-by');
  if (!el || !job.cancelled_by) return;
  el.replaceChildren('cancelled by ', Object.assign(document.createElement('b'), { textContent: job.cancelled_by }),
    job.cancelled_via ? ` via ${job.cancelled_via}` : '');
  el.hidden = false;
}

function start() {
  performance.mark('tailapp:start');
  const job = pageData('job-data');
  const store = new LineStore();
  const sections = new Sections(store);
  const view = new LogView($('log'), store, sections);
  const search = new Search(view, { input: $('search-input'), count: $('search-count'), prev: $('search-prev'), next: $('search-next') });
  const errors = new ErrorMarks(view, { first: $('err-first'), prev: $('err-prev'), next: $('err-next'),
    count: $('err-count'), minimap: $('err-map') }, pageData('viewer-data'));
  if (job.state === 'failed' && !location.hash) errors.openAtFirst(job.lines);
  new GroupButtons(view, { expand: $('groups-expand'), collapse: $('groups-collapse') });
  new GapList(view, { details: $('gaps'), list: $('gaps-list') }, delta);
  new WrapToggle(view, $('wrap-toggle'));
  copyLogText(view);
  const follow = new FollowControl(view, $('follow'));
  const sectionList = new SectionList($('job-sections'), view, sections, store);
  const ts = new TimestampControl(view, $('ts-mode'), job.started_at);
  new Permalinks(view);
  new ToolsMenu($('tools-btn'), $('log-tools'));
  const status = new JobStatus({ badge: $('job-badge'), reason: $('job-reason'), queued: $('job-queued'), started: $('job-started'),
    finished: $('job-finished'), finishedFact: $('job-finished-fact'), duration: $('job-duration'), progress: $('job-progress') });
  const actions = new JobActions({ cancel: $('cancel-btn'), restart: $('restart-btn'), message: $('action-msg') }, job.id);
  const conn = $('conn-status');
  let terminal = isTerminal(job.state);

  const onJob = (j) => {
    terminal = isTerminal(j.state);
    status.update(j);
    actions.update(j);
    ts.setOrigin(j.started_at);
    $('log').dataset.empty = terminal ? 'No output.' : 'Waiting for output…';
    follow.setFinished(terminal);
    sectionList.setState(j.state);
    document.title = tabTitle(j);
    showFavicon(j.state);
    showCancelledBy(j);
    $('log-held').hidden = !(j.truncated && !terminal);  // the marker row comes when the job ends
  };
  const onStatus = (s) => {
    const shown = terminal && s === 'live' ? 'ended' : s;
    conn.dataset.status = shown;
    conn.textContent = shown === 'ended' ? 'finished' : shown;
  };
  onJob(job);
  // A big log shows its last lines first, while the whole log loads (the server says which logs, with a
  // preload link; not when the page opens on a permalink). The whole log is asked for once they came:
  // both at once, the server sends them after the first megabytes of the whole log.
  const tailLink = $('log-tail-preload');
  const tail = tailLink && !location.hash ? new TailPreview($('log'), view, job.lines).load(tailLink.href) : null;
  // A big log's backlog comes over HTTP in bulk; the live feed joins after its last line (exactly once).
  const bulk = () => loadBacklog(job.id, 0, (lines, times) => view.append(lines, times));
  const ready = job.lines >= BULK_MIN_LINES ? (tail ? tail.then(bulk) : bulk()) : null;
  const feed = new JobFeed(openSocket(), job.id, {
    ready,
    onLines: (lines, times) => view.append(lines, times),
    onJob: (j) => { onJob(j); onStatus(feed.status); },
    onStatus,
    onError: (message) => { conn.dataset.status = 'offline'; conn.textContent = message; },
  });
  window.tailapp = { job, store, sections, view, search, errors, feed, bulk: null };
  ready?.then((seq) => { window.tailapp.bulk = seq; });  // for the console and the e2e tests
}

start();
