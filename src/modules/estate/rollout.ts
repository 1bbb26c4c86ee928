import { stackedBarChart } from '../../platform/web/chart.js';
import type { AreaView, SiteType } from './estate.schema.js';
import { CONNECTIVITY_TECHNOLOGIES, SITE_TYPE_NAMES, SITE_TYPES, TECHNOLOGY_NAMES } from './estate.schema.js';

export interface RolloutRow {
  type: SiteType;
  technology: string | null;
  status: string | null;
  areaId: string | null;
  count: number;
}

export const FIBRE_STAGES = ['live', 'installed', 'ordered', 'planned', 'fault'] as const;

export interface TypeLine {
  type: SiteType;
  name: string;
  total: number;
  fibre: Record<(typeof FIBRE_STAGES)[number], number>;
  /** on another technology, or none recorded */
  other: number;
}

/**
 * The rollout view's tables from the grouped counts: full fibre by site type (the
 * question "how many schools are on full fibre, and which are still planned"), every
 * technology by site type, and full fibre by area.
 */
export function rolloutTables(rollout: { rows: RolloutRow[]; areas: AreaView[] }, areaId?: string) {
  const rows = areaId ? rollout.rows.filter((r) => r.areaId === areaId) : rollout.rows;
  return { byType: byType(rows), byTechnology: byTechnology(rows), byArea: areaId ? [] : byArea(rows, rollout.areas), totalSites: sum(rows) };
}

const sum = (rows: RolloutRow[]) => rows.reduce((n, r) => n + r.count, 0);
const stages = () => ({ live: 0, installed: 0, ordered: 0, planned: 0, fault: 0 });

function byType(rows: RolloutRow[]): TypeLine[] {
  const lines: TypeLine[] = [];
  for (const type of SITE_TYPES) {
    const mine = rows.filter((r) => r.type === type);
    if (!mine.length) continue;
    const fibre = stages();
    let other = 0;
    for (const r of mine) {
      if (r.technology === 'full_fibre' && r.status) fibre[r.status as keyof typeof fibre] += r.count;
      else other += r.count;
    }
    lines.push({ type, name: SITE_TYPE_NAMES[type], total: sum(mine), fibre, other });
  }
  return lines;
}

function byTechnology(rows: RolloutRow[]) {
  const technologies = [...CONNECTIVITY_TECHNOLOGIES.map((t) => ({ key: t as string | null, name: TECHNOLOGY_NAMES[t] })), { key: null, name: 'Not recorded' }];
  const lines = SITE_TYPES.filter((type) => rows.some((r) => r.type === type)).map((type) => ({
    type,
    name: SITE_TYPE_NAMES[type],
    counts: technologies.map((t) => sum(rows.filter((r) => r.type === type && r.technology === t.key))),
  }));
  return { technologies, lines };
}

function byArea(rows: RolloutRow[], areas: AreaView[]) {
  const line = (id: string | null, name: string) => {
    const mine = rows.filter((r) => r.areaId === id);
    const fibre = (s: string[]) => sum(mine.filter((r) => r.technology === 'full_fibre' && s.includes(r.status ?? '')));
    return { id, name, total: sum(mine), live: fibre(['live']), inProgress: fibre(['planned', 'ordered', 'installed']), fault: fibre(['fault']) };
  };
  const lines = areas.map((a) => line(a.id, a.name));
  if (rows.some((r) => r.areaId === null)) lines.push(line(null, 'Not in any area'));
  return lines.filter((l) => l.total > 0);
}

const SEGMENTS = [...FIBRE_STAGES, 'other'] as const;
export const SEGMENT_NAMES: Record<(typeof SEGMENTS)[number], string> = {
  live: 'Full fibre: live',
  installed: 'Full fibre: installed',
  ordered: 'Full fibre: ordered',
  planned: 'Full fibre: planned',
  fault: 'Full fibre: fault',
  other: 'Other technology or none',
};

/** Full-fibre stages by site type as a stacked bar chart (colours from estate.css); the page's table has the same numbers. */
export function rolloutChart(lines: TypeLine[]): { svg: string; segments: { key: string; name: string }[] } {
  const segments = SEGMENTS.map((key) => ({ key, name: SEGMENT_NAMES[key] }));
  const svg = stackedBarChart({
    id: 'rollout-chart',
    title: 'Sites by type and full-fibre stage (the table below has the same numbers)',
    segments,
    bars: lines.map((l) => ({ label: l.name, values: SEGMENTS.map((seg) => (seg === 'other' ? l.other : l.fibre[seg])) })),
  });
  return { svg, segments };
}
