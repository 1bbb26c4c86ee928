/** Penalty notice files for the parking tests: the header, a row with defaults, a whole file. */

export const HEADER = 'pcn,vrm,keeper_name,mobile,email,amount,issued_on,contravention,location,language';

const DEFAULTS: Record<string, string> = {
  vrm: 'ZA12 BCD',
  keeper_name: 'Sam Keeper',
  mobile: '07700 900401',
  email: '',
  amount: '70.00',
  issued_on: '2026-11-20',
  contravention: '01 Parked in a restricted street',
  location: 'High Street, Moorchester',
  language: '',
};

/** A notice row as CSV; `over` replaces columns by name. */
export function row(pcn: string, over: Record<string, string> = {}): string {
  const cells: Record<string, string> = { ...DEFAULTS, pcn, ...over };
  return HEADER.split(',')
    .map((c) => (/[",]/.test(cells[c]) ? `"${cells[c].replace(/"/g, '""')}"` : cells[c]))
    .join(',');
}

/** A file of notices, lines ended as spreadsheets end them. */
export const file = (...rows: string[]) => `${[HEADER, ...rows].join('\r\n')}\r\n`;
