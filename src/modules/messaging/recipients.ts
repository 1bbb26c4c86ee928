/**
 * Recipients checked and normalised the way GOV.UK Notify does (notifications-utils,
 * recipients.py): UK mobile numbers to 447…, international numbers to their digits,
 * email addresses lower-cased. Each check returns Notify's message for what is wrong.
 */

export type Checked = { ok: true; normalised: string } | { ok: false; message: string };

const EMAIL = /^[a-zA-Z0-9.!#$%&'*+=?^_`{|}~\-/]+@([^.@][^@\s]+)$/;
const HOSTNAME_PART = /^(xn|[a-z0-9]+)(-?-[a-z0-9]+)*$/i;
const TLD_PART = /^([a-z]{2,63}|xn--([a-z0-9]+-)*[a-z0-9]+)$/i;

/** Notify's email check: a local part, and a domain of at least two valid labels. */
export function checkEmail(address: string): Checked {
  const email = address.trim().replace(/^mailto:/i, '');
  const bad: Checked = { ok: false, message: 'Not a valid email address' };
  if (email.length > 320 || email.includes('..')) return bad;
  const m = EMAIL.exec(email);
  if (!m) return bad;
  const parts = m[1].split('.');
  if (parts.length < 2 || m[1].length > 253) return bad;
  if (!parts.every((p) => p.length > 0 && p.length <= 63 && HOSTNAME_PART.test(p))) return bad;
  if (!TLD_PART.test(parts[parts.length - 1])) return bad;
  return { ok: true, normalised: email.toLowerCase() };
}

const UK_PREFIX = '7';

/** Digits of a number as typed: spaces, brackets, dashes and a leading + are allowed, nothing else. */
function digitsOf(number: string): string | undefined {
  const cleaned = number.replace(/[\s()\-.\u00a0\u2010-\u2015]/g, '');
  if (!/^\+?\d+$/.test(cleaned)) return undefined;
  return cleaned.replace(/^\+/, '');
}

/**
 * Notify's phone number check. UK mobiles (07…, +447…, 00447…) become 447xxxxxxxxx; with
 * `international`, other numbers with a country code (8 to 15 digits) are kept as digits.
 */
export function checkPhone(number: string, options: { international?: boolean } = {}): Checked {
  const digits = digitsOf(number.trim());
  if (digits === undefined) return { ok: false, message: 'Must not contain letters or symbols' };
  const uk = ukMobile(digits);
  if (uk) return uk;
  const international = digits.replace(/^00/, '');
  if (options.international && !/^44/.test(international) && !/^0/.test(digits)) {
    if (international.length < 8) return { ok: false, message: 'Not enough digits' };
    if (international.length > 15) return { ok: false, message: 'Too many digits' };
    return { ok: true, normalised: international };
  }
  return { ok: false, message: 'Not a UK mobile number' };
}

function ukMobile(digits: string): Checked | undefined {
  let rest: string | undefined;
  if (digits.startsWith('0044')) rest = digits.slice(4);
  else if (digits.startsWith('44')) rest = digits.slice(2);
  else if (digits.startsWith('0')) rest = digits.slice(1);
  else if (digits.startsWith(UK_PREFIX) && digits.length === 10) rest = digits;
  if (rest === undefined) return undefined;
  rest = rest.replace(/^0/, '');
  if (!rest.startsWith(UK_PREFIX)) return { ok: false, message: 'Not a UK mobile number' };
  if (rest.length < 10) return { ok: false, message: 'Not enough digits' };
  if (rest.length > 10) return { ok: false, message: 'Too many digits' };
  return { ok: true, normalised: `44${rest}` };
}

/**
 * GOV.UK Notify's documented test recipients (normalised). Smoke-test recipients, with any key,
 * are answered like any other and never sent; with a test key these give their failure and every
 * other recipient is delivered (simulated).
 */
export const SMOKE_TEST_RECIPIENTS: ReadonlySet<string> = new Set([
  '447700900000',
  '447700900111',
  '447700900222',
  'simulate-delivered@notifications.service.gov.uk',
  'simulate-delivered-2@notifications.service.gov.uk',
  'simulate-delivered-3@notifications.service.gov.uk',
]);

export const TEST_KEY_OUTCOMES: Readonly<Record<string, string>> = {
  '447700900003': 'temporary-failure',
  '447700900002': 'permanent-failure',
  'temp-fail@simulator.notify': 'temporary-failure',
  'perm-fail@simulator.notify': 'permanent-failure',
};
