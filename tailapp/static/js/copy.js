// Copying from the log pane: the selected rows' log text only, in log order, with no line numbers,
// times or gutter marks (the DOM holds only the rows in sight, in the order they were drawn).

/** Replace what a copy inside the pane puts on the clipboard. */
export function copyLogText(view) {
  view.root.addEventListener('copy', (e) => {
    const text = selectedText(view, window.getSelection());
    if (text == null) return;
    e.clipboardData.setData('text/plain', text);
    e.preventDefault();
  });
}

/** The log text of the rows a selection spans, cut at its ends; null when it is not in the log. */
export function selectedText(view, sel) {
  if (!sel || !sel.rangeCount || sel.isCollapsed) return null;
  let a = end(sel.anchorNode, sel.anchorOffset), b = end(sel.focusNode, sel.focusOffset);
  if (!a || !b) return null;
  if (a.i > b.i || (a.i === b.i && a.at > b.at)) [a, b] = [b, a];
  const { sections, store } = view;
  const lines = [];
  for (let r = sections.rowOf(a.i); r !== -1 && r < sections.rowCount && sections.lineAt(r) <= b.i; r++) {
    lines.push(store.plain(sections.lineAt(r)));
  }
  if (!lines.length) return null;
  const last = lines.length - 1;
  if (b.exact) lines[last] = lines[last].slice(0, b.at);
  if (a.exact) lines[0] = lines[0].slice(a.at);
  return lines.join('\n');
}

/** A selection end as {i: line index, at: offset in its text, exact: whether `at` is in the log text}. */
function end(node, offset) {
  const el = node && (node.nodeType === 1 ? node : node.parentElement);
  const row = el && el.closest('.log .row');
  if (!row) return null;
  const txt = row.querySelector('.txt');
  const plainRow = !row.classList.contains('sec-head') && !row.classList.contains('progress-line');
  if (!txt.contains(node) || !plainRow) {
    const before = !txt.contains(node) && (txt.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_PRECEDING);
    return { i: Number(row.dataset.i), at: before ? 0 : Infinity, exact: plainRow };
  }
  const range = document.createRange();
  range.setStart(txt, 0);
  range.setEnd(node, offset);
  return { i: Number(row.dataset.i), at: range.toString().length, exact: true };
}
