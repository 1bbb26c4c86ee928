// The alarm board's live updates: each alarm change arrives as a Server-Sent Event; the table is
// fetched again (with the page's own filters) and replaced in place, and a new alarm is announced
// in a GOV.UK notification banner inside a polite live region. Without JavaScript the board is
// the same table, and a reload shows changes.

const board = document.getElementById('alarm-board');
if (board && 'EventSource' in window) start(board);

function start(el) {
  const status = document.getElementById('alarm-live-status');
  const source = new EventSource(el.dataset.eventsUrl);
  source.addEventListener('open', () => {
    status.textContent = 'Live: this list changes by itself as alarms are raised and worked.';
  });
  source.addEventListener('error', () => {
    status.textContent = 'Live updates have stopped for a moment and will start again by themselves. Reload the page to see changes now.';
  });
  const raised = [];
  let timer = null;
  source.addEventListener('alarm', (event) => {
    const change = JSON.parse(event.data);
    if (change.kind === 'raised') raised.push(change);
    // Changes often come in bursts (a pollution episode): one refresh for each burst.
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      const news = raised.splice(0);
      const refreshed = await refresh();
      for (const change of news) announce(change, refreshed);
    }, 300);
  });
}

/** Fetches this page again and swaps in its table; whether that worked. */
async function refresh() {
  try {
    const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
    if (!res.ok) return false;
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const next = doc.getElementById('alarm-table');
    const current = document.getElementById('alarm-table');
    if (!next || !current) return false;
    current.replaceWith(next);
    return true;
  } catch {
    return false;
  }
}

/** Adds the new alarm to the one banner at the top of the board (newest first, the last five). */
function announce(change, refreshed) {
  // The refreshed table is in this page now (moved there from the fetched copy).
  const row = refreshed ? [...document.querySelectorAll('#alarm-table [data-alarm-id]')].find((r) => r.dataset.alarmId === change.id) : undefined;
  const name = row?.querySelector('.weft-alarm-name')?.textContent;
  const where = row?.querySelector('.weft-alarm-subject')?.textContent;
  const item = element('li', '', name ? `New alarm: ${name}${where ? ` (${where})` : ''}. ` : `New ${change.severity} alarm${refreshed ? ', not in this list as filtered' : ''}. `);
  const link = element('a', 'govuk-notification-banner__link', 'See the alarm');
  link.href = `/console/alarms/${encodeURIComponent(change.id)}`;
  item.append(link);
  const list = banner().querySelector('ul');
  list.prepend(item);
  while (list.children.length > 5) list.lastElementChild.remove();
}

function banner() {
  const existing = document.getElementById('alarm-news-banner');
  if (existing) return existing;
  const box = element('div', 'govuk-notification-banner');
  box.id = 'alarm-news-banner';
  box.setAttribute('role', 'region');
  box.setAttribute('aria-labelledby', 'alarm-news-title');
  const header = element('div', 'govuk-notification-banner__header');
  const title = element('h2', 'govuk-notification-banner__title', 'New alarms');
  title.id = 'alarm-news-title';
  header.append(title);
  const content = element('div', 'govuk-notification-banner__content');
  content.append(element('ul', 'govuk-list govuk-notification-banner__heading'));
  box.append(header, content);
  document.getElementById('alarm-news').append(box);
  return box;
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text) el.textContent = text;
  return el;
}
