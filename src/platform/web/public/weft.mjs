import { initAll } from '/assets/govuk-frontend.min.js';

initAll();

/**
 * Pages that follow work in progress (an import, a campaign) mark the part that changes with
 * data-weft-refresh="<seconds>". With JavaScript, that part is fetched again and replaced in
 * place until the new copy no longer carries the attribute; without it, the page has a
 * "Refresh" link. (No <meta refresh>: it reloads the whole page under a screen reader's feet.)
 */
function follow(region) {
  const seconds = Number(region.dataset.weftRefresh) || 2;
  setTimeout(async () => {
    try {
      const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (!res.ok) return;
      const next = new DOMParser().parseFromString(await res.text(), 'text/html').getElementById(region.id);
      if (!next) return;
      region.replaceWith(next);
      if (next.dataset.weftRefresh) follow(next);
    } catch {
      // Offline for a moment: the "Refresh" link still works.
    }
  }, seconds * 1000);
}

for (const region of document.querySelectorAll('[data-weft-refresh][id]')) follow(region);
