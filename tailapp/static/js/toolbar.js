// The log toolbar's own buttons: expand / collapse all groups, and the wrap toggle.

/** "Expand all" / "Collapse all" for the log's groups; disabled while the log has none. */
export class GroupButtons {
  constructor(view, { expand, collapse }) {
    this.view = view;
    this.buttons = [expand, collapse];
    expand.addEventListener('click', () => this.setAll(false));
    collapse.addEventListener('click', () => this.setAll(true));
    view.onFrame(() => this.sync());
    this.sync();
  }

  setAll(collapsed) {
    this.view.sections.setAll(collapsed);
    this.view.request();
  }

  sync() {
    const none = this.view.sections.list.length === 0;
    for (const b of this.buttons) if (b.disabled !== none) b.disabled = none;
  }
}
