import { checkEmail, checkPhone } from '../messaging/recipients.js';
import { CsvError, isBlankRow, parseCsv } from '../../platform/csv.js';
import { isDay, londonDay } from '../../platform/dates.js';
import type { RowError } from './parking.schema.js';

/**
 * A file of penalty charge notices: its columns, and every row checked before anything is
 * stored. Row numbers count the header as row 1, as a spreadsheet shows them.
 */
export const COLUMNS = ['pcn', 'vrm', 'keeper_name', 'mobile', 'email', 'amount', 'issued_on', 'contravention', 'location', 'language'] as const;
type Column = (typeof COLUMNS)[number];
const REQUIRED: Column[] = ['pcn', 'vrm', 'keeper_name', 'amount', 'issued_on', 'contravention', 'location'];
/** Other names a parking system's export may give a column. */
const ALIASES: Record<string, Column> = {
  pcn_number: 'pcn',
  penalty_charge_notice: 'pcn',
  registration: 'vrm',
  vehicle_registration: 'vrm',
  vrn: 'vrm',
  keeper: 'keeper_name',
  name: 'keeper_name',
  mobile_number: 'mobile',
  phone: 'mobile',
  email_address: 'email',
  issued: 'issued_on',
  issue_date: 'issued_on',
  date_issued: 'issued_on',
};
export const MAX_ROWS = 2000;
/** A file with more problems than this is reported only up to it. */
export const MAX_REPORTED = 500;
/** The largest penalty a file may ask for: £10,000. */
export const MAX_AMOUNT_PENCE = 1_000_000;
const MAX_TEXT = 200;

export interface NoticeRow {
  row: number;
  pcn: string;
  vrm: string;
  keeperName: string;
  /** normalised: a UK mobile as 447…, as residents' mobiles are stored */
  mobile: string | null;
  /** normalised: lower case, as residents' emails are stored */
  email: string | null;
  channel: 'sms' | 'email';
  amountPence: number;
  issuedOn: string;
  contravention: string;
  location: string;
  language: 'en' | 'cy';
}

/** Reads and checks a whole file: every notice, or every problem found (duplicates within the file included). */
export function readNotices(text: string, now = new Date()): { notices: NoticeRow[]; errors: RowError[] } {
  const table = readTable(text);
  if ('errors' in table) return { notices: [], errors: table.errors };
  const notices: NoticeRow[] = [];
  const errors: RowError[] = [];
  const firstRow = new Map<string, number>();
  const today = londonDay(now);
  for (const [row, cells] of table.rows) {
    const checked = checkRow(row, cells, today);
    if ('errors' in checked) {
      errors.push(...checked.errors);
      continue;
    }
    const seen = firstRow.get(checked.pcn);
    if (seen) errors.push({ row, field: 'pcn', message: `${checked.pcn} is also on row ${seen}: each penalty charge notice may appear once` });
    else firstRow.set(checked.pcn, row);
    notices.push(checked);
  }
  return { notices, errors };
}

/** The header checked, and each non-blank row as column → value. */
function readTable(text: string): { rows: [number, Partial<Record<Column, string>>][] } | { errors: RowError[] } {
  let raw: string[][];
  try {
    raw = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvError) return { errors: [{ row: err.row, field: 'file', message: `The file is not valid CSV: ${err.message}` }] };
    throw err;
  }
  if (!raw.length || isBlankRow(raw[0])) return { errors: [{ row: 1, field: 'header', message: `The first row must name the columns: ${COLUMNS.join(', ')}` }] };
  const header = raw[0].map(columnOf);
  const errors: RowError[] = [];
  header.forEach((h, i) => {
    if (!h) errors.push({ row: 1, field: raw[0][i].trim() || 'header', message: `${raw[0][i].trim() || 'An empty column name'} is not a column Weft knows. Use: ${COLUMNS.join(', ')}` });
    else if (header.indexOf(h) !== i) errors.push({ row: 1, field: h, message: `The ${h} column appears twice` });
  });
  for (const r of REQUIRED) if (!header.includes(r)) errors.push({ row: 1, field: r, message: `The ${r} column is missing` });
  if (!header.includes('mobile') && !header.includes('email')) errors.push({ row: 1, field: 'mobile', message: 'The file needs a mobile column, an email column or both' });
  if (raw.length - 1 > MAX_ROWS) errors.push({ row: MAX_ROWS + 2, field: 'file', message: `A file may hold at most ${MAX_ROWS.toLocaleString('en-GB')} notices; split it into several` });
  if (errors.length) return { errors };
  const rows: [number, Partial<Record<Column, string>>][] = [];
  for (const [i, cells] of raw.slice(1).entries()) {
    const row = i + 2;
    if (isBlankRow(cells)) continue;
    if (cells.length !== header.length) errors.push({ row, field: 'row', message: `This row has ${cells.length} fields; the header has ${header.length}` });
    else rows.push([row, Object.fromEntries(header.map((h, j) => [h, cells[j].trim()]))]);
  }
  if (errors.length) return { errors };
  if (!rows.length) return { errors: [{ row: 2, field: 'file', message: 'The file has a header but no notices' }] };
  return { rows };
}

function columnOf(name: string): Column | undefined {
  const key = name
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return (COLUMNS as readonly string[]).includes(key) ? (key as Column) : ALIASES[key];
}

function checkRow(row: number, cells: Partial<Record<Column, string>>, today: string): NoticeRow | { errors: RowError[] } {
  const errors: RowError[] = [];
  const bad = (field: Column, message: string) => void errors.push({ row, field, message });
  const pcn = (cells.pcn ?? '').replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z0-9]{6,20}$/.test(pcn)) bad('pcn', 'Enter the penalty charge notice number: 6 to 20 letters and digits, like AB12345678');
  const vrm = (cells.vrm ?? '').replace(/\s+/g, ' ').toUpperCase();
  if (!/^[A-Z0-9]{2,8}$/.test(vrm.replace(/ /g, ''))) bad('vrm', 'Enter the vehicle registration: 2 to 8 letters and digits, like AB12 CDE');
  const keeperName = cells.keeper_name ?? '';
  if (!keeperName || keeperName.length > MAX_TEXT) bad('keeper_name', `Enter the keeper’s name, up to ${MAX_TEXT} characters`);
  // Stored as residents' contact points are (447…, lower case), so a resident's notices are found by equality.
  const mobile = cells.mobile ? checkPhone(cells.mobile) : null;
  if (mobile && !mobile.ok) bad('mobile', 'Enter a UK mobile number, like 07700 900123, or leave it empty');
  const email = cells.email ? checkEmail(cells.email) : null;
  if (email && !email.ok) bad('email', 'Enter an email address, like name@example.com, or leave it empty');
  if (!mobile && !email) bad(cells.mobile === undefined ? 'email' : 'mobile', 'Give a mobile number or an email address: there is no way to reach this keeper');
  const amountPence = pence(cells.amount ?? '');
  if (amountPence === undefined) bad('amount', `Enter the amount to pay in pounds, like 70.00, from £0.01 to £${(MAX_AMOUNT_PENCE / 100).toLocaleString('en-GB')}`);
  const issuedOn = day(cells.issued_on ?? '');
  if (!issuedOn) bad('issued_on', 'Enter the date the notice was issued, like 2026-12-01 or 01/12/2026');
  else if (issuedOn > today) bad('issued_on', 'The date the notice was issued cannot be in the future');
  for (const field of ['contravention', 'location'] as const) if (!cells[field] || (cells[field] as string).length > MAX_TEXT) bad(field, `Enter the ${field}, up to ${MAX_TEXT} characters`);
  const language = languageOf(cells.language ?? '');
  if (!language) bad('language', 'Enter en for English or cy for Welsh, or leave it empty for English');
  if (errors.length) return { errors };
  return {
    row,
    pcn,
    vrm,
    keeperName,
    mobile: mobile?.ok ? mobile.normalised : null,
    email: email?.ok ? email.normalised : null,
    channel: mobile ? 'sms' : 'email',
    amountPence: amountPence as number,
    issuedOn: issuedOn as string,
    contravention: cells.contravention as string,
    location: cells.location as string,
    language: language as 'en' | 'cy',
  };
}

/** £70.00, 70, 1,000.50 → pence; undefined when it is not an amount in range. */
function pence(text: string): number | undefined {
  const m = /^£?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{2}))?$/.exec(text);
  if (!m) return undefined;
  const value = Number(m[1].replace(/,/g, '')) * 100 + Number(m[2] ?? 0);
  return value >= 1 && value <= MAX_AMOUNT_PENCE ? value : undefined;
}

/** YYYY-MM-DD, or DD/MM/YYYY as UK spreadsheets write it, as YYYY-MM-DD; undefined when it is not a real day. */
function day(text: string): string | undefined {
  const uk = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  const iso = uk ? `${uk[3]}-${uk[2].padStart(2, '0')}-${uk[1].padStart(2, '0')}` : text;
  return isDay(iso) ? iso : undefined;
}

function languageOf(text: string): 'en' | 'cy' | undefined {
  const v = text.trim().toLowerCase();
  if (['', 'en', 'english', 'saesneg'].includes(v)) return 'en';
  if (['cy', 'welsh', 'cymraeg'].includes(v)) return 'cy';
  return undefined;
}

/** Errors as the API reports them: field `rows/N/column`, message "Row N: column: what to change". */
export function asFieldErrors(errors: RowError[]) {
  return errors.map((e) => ({ field: `rows/${e.row}/${e.field}`, message: `Row ${e.row}: ${e.field}: ${e.message}.` }));
}
