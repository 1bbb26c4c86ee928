import { FIBRE_STAGES, type TypeLine } from './rollout.js';

const WIDTH = 720;
const LABEL = 190;
const BAR = 22;
const GAP = 12;
const SEGMENTS = [...FIBRE_STAGES, 'other'] as const;
export const SEGMENT_NAMES: Record<(typeof SEGMENTS)[number], string> = {
  live: 'Full fibre: live',
  installed: 'Full fibre: installed',
  ordered: 'Full fibre: ordered',
  planned: 'Full fibre: planned',
  fault: 'Full fibre: fault',
  other: 'Other technology or none',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A stacked bar chart of full-fibre stages by site type, as SVG markup drawn on the
 * server: no script, no inline style (colours come from classes in estate.css). The
 * table beside it carries the same numbers for screen readers and without CSS.
 */
export function rolloutChart(lines: TypeLine[]): { svg: string; segments: { key: string; name: string }[] } {
  const height = lines.length * (BAR + GAP) + GAP;
  const max = Math.max(1, ...lines.map((l) => l.total));
  const scale = (WIDTH - LABEL - 60) / max;
  const bars = lines.map((line, i) => {
    const y = GAP + i * (BAR + GAP);
    let x = LABEL;
    const rects = SEGMENTS.map((seg) => {
      const n = seg === 'other' ? line.other : line.fibre[seg];
      const w = n * scale;
      const rect = n
        ? `<rect class="weft-bar weft-bar--${seg}" x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${BAR}"><title>${esc(`${line.name}: ${SEGMENT_NAMES[seg]} ${n}`)}</title></rect>`
        : '';
      x += w;
      return rect;
    }).join('');
    return `<text class="weft-chart-label" x="${LABEL - 8}" y="${y + BAR / 2 + 5}" text-anchor="end">${esc(line.name)}</text>${rects}<text class="weft-chart-value" x="${(x + 6).toFixed(1)}" y="${y + BAR / 2 + 5}">${line.total}</text>`;
  });
  const svg = `<svg class="weft-chart" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-labelledby="rollout-chart-title" focusable="false"><title id="rollout-chart-title">Sites by type and full-fibre stage (the table below has the same numbers)</title>${bars.join('')}</svg>`;
  return { svg, segments: SEGMENTS.map((key) => ({ key, name: SEGMENT_NAMES[key] })) };
}
