/**
 * The UK Daily Air Quality Index (DAQI), as Defra publishes it: for each pollutant, a mean over
 * its own averaging period is placed in one of ten bands; the index of a place is the highest
 * of its pollutants' indices. Concentrations are in µg/m³ and rounded to the nearest whole
 * number before banding, as Defra's band edges are whole numbers (so 33.4 is 1, 33.5 is 2).
 */

export type Pollutant = 'o3' | 'no2' | 'so2' | 'pm2_5' | 'pm10';
export type DaqiBand = 'Low' | 'Moderate' | 'High' | 'Very High';

export interface PollutantSpec {
  pollutant: Pollutant;
  name: string;
  /** the averaging period, in minutes */
  windowMinutes: number;
  averaging: string;
  /** the highest concentration of each of the indices 1 to 9; above the ninth is 10 */
  upper: readonly number[];
}

export const DAQI_POLLUTANTS: readonly PollutantSpec[] = [
  { pollutant: 'o3', name: 'Ozone', windowMinutes: 8 * 60, averaging: '8-hour running mean', upper: [33, 66, 100, 120, 140, 160, 187, 213, 240] },
  { pollutant: 'no2', name: 'Nitrogen dioxide', windowMinutes: 60, averaging: 'hourly mean', upper: [67, 134, 200, 267, 334, 400, 467, 534, 600] },
  { pollutant: 'so2', name: 'Sulphur dioxide', windowMinutes: 15, averaging: '15-minute mean', upper: [88, 177, 266, 354, 443, 532, 710, 887, 1064] },
  { pollutant: 'pm2_5', name: 'PM2.5 particles', windowMinutes: 24 * 60, averaging: '24-hour running mean', upper: [11, 23, 35, 41, 47, 53, 58, 64, 70] },
  { pollutant: 'pm10', name: 'PM10 particles', windowMinutes: 24 * 60, averaging: '24-hour running mean', upper: [16, 33, 50, 58, 66, 75, 83, 91, 100] },
];

const SPECS = new Map(DAQI_POLLUTANTS.map((s) => [s.pollutant, s]));

export function isPollutant(metric: string): metric is Pollutant {
  return SPECS.has(metric as Pollutant);
}

export function pollutantSpec(p: Pollutant): PollutantSpec {
  return SPECS.get(p) as PollutantSpec;
}

/** The index (1 to 10) of a pollutant's mean concentration over its averaging period. */
export function daqiIndex(pollutant: Pollutant, concentration: number): number {
  const value = Math.round(Math.max(0, concentration));
  const { upper } = pollutantSpec(pollutant);
  for (let i = 0; i < upper.length; i++) if (value <= upper[i]) return i + 1;
  return 10;
}

export function daqiBand(index: number): DaqiBand {
  if (index >= 10) return 'Very High';
  if (index >= 7) return 'High';
  if (index >= 4) return 'Moderate';
  return 'Low';
}

export interface PollutantIndex {
  pollutant: Pollutant;
  mean: number;
  index: number;
}

export interface DaqiReading {
  index: number;
  band: DaqiBand;
  /** the pollutant that set the index */
  pollutant: Pollutant;
  pollutants: PollutantIndex[];
}

/** The overall index from each pollutant's mean (those with no data left out); undefined with none. */
export function overallDaqi(means: Partial<Record<Pollutant, number>>): DaqiReading | undefined {
  const pollutants: PollutantIndex[] = [];
  for (const spec of DAQI_POLLUTANTS) {
    const mean = means[spec.pollutant];
    if (mean === undefined || !Number.isFinite(mean)) continue;
    pollutants.push({ pollutant: spec.pollutant, mean, index: daqiIndex(spec.pollutant, mean) });
  }
  if (!pollutants.length) return undefined;
  const top = pollutants.reduce((a, b) => (b.index > a.index ? b : a));
  return { index: top.index, band: daqiBand(top.index), pollutant: top.pollutant, pollutants };
}

/** The highest of several places' readings (an area's index is its worst monitor's). */
export function worstDaqi(readings: (DaqiReading | undefined)[]): DaqiReading | undefined {
  let worst: DaqiReading | undefined;
  for (const r of readings) if (r && (!worst || r.index > worst.index)) worst = r;
  return worst;
}
