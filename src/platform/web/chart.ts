/** One part of every bar: its class is `weft-bar--<key>`, so a module's stylesheet gives its colour. */
export interface ChartSegment {
  key: string;
  name: string;
}

/** A bar: its label and one value per segment, in the segments' order. */
export interface ChartBar {
  label: string;
  values: number[];
}

export interface BarChartOptions {
  /** unique on the page: the chart's title element is `<id>-title` */
  id: string;
  /** what the chart shows, read out by screen readers; say that a table has the same numbers */
  title: string;
  segments: ChartSegment[];
  bars: ChartBar[];
  /** width kept for the labels, of 720 (190) */
  labelWidth?: number;
  /** height of a bar (22) and the gap between bars (12) */
  barHeight?: number;
  gap?: number;
}

const WIDTH = 720;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A horizontal stacked bar chart as SVG markup drawn on the server: no script and no inline
 * style, so it passes the console's content security policy and works without JavaScript.
 * Colours come from `weft-bar--<segment key>` classes in the page's stylesheet (the swatches of a
 * legend can use the same class). Each part has a tooltip; the total is written at the end of
 * each bar. A chart is never the only copy of its numbers: put a table beside it.
 */
export function stackedBarChart(o: BarChartOptions): string {
  const label = o.labelWidth ?? 190;
  const bar = o.barHeight ?? 22;
  const gap = o.gap ?? 12;
  const height = o.bars.length * (bar + gap) + gap;
  const totals = o.bars.map((b) => b.values.reduce((a, n) => a + n, 0));
  const scale = (WIDTH - label - 70) / Math.max(1, ...totals);
  const text = (bar + 10) / 2;
  const rows = o.bars.map((b, i) => {
    const y = gap + i * (bar + gap);
    let x = label;
    const rects = o.segments
      .map((seg, j) => {
        const n = b.values[j] ?? 0;
        const w = n * scale;
        const rect = n
          ? `<rect class="weft-bar weft-bar--${esc(seg.key)}" x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${bar}"><title>${esc(`${b.label}: ${seg.name} ${n.toLocaleString('en-GB')}`)}</title></rect>`
          : '';
        x += w;
        return rect;
      })
      .join('');
    const name = label ? `<text class="weft-chart-label" x="${label - 8}" y="${y + text}" text-anchor="end">${esc(b.label)}</text>` : '';
    return `${name}${rects}<text class="weft-chart-value" x="${(x + 6).toFixed(1)}" y="${y + text}">${totals[i].toLocaleString('en-GB')}</text>`;
  });
  return `<svg class="weft-chart" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-labelledby="${esc(o.id)}-title" focusable="false"><title id="${esc(o.id)}-title">${esc(o.title)}</title>${rows.join('')}</svg>`;
}
