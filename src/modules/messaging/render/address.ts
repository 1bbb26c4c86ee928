// Postal addresses for letters, checked as GOV.UK Notify checks them:
// notifications_utils/recipient_validation/postal_address.py (PostalAddress) for the rules and
// notifications-api app/notifications/validators.py (validate_address) for the messages and order.

import { findCountry, type PostageZone, postageZone, UK, UK_POSTCODE_ZONES } from './countries.js';
import { personalisationLookup, type Personalisation } from './placeholders.js';
import { normaliseNewlines, normaliseWhitespace, removeWhitespaceBeforePunctuation } from './text.js';

export const ADDRESS_MIN_LINES = 3;
export const ADDRESS_MAX_LINES = 7;
/** No address line may start with one of these. */
export const INVALID_CHARACTERS_AT_START_OF_ADDRESS_LINE = '@()=[]"\\/,<>~';

export const ADDRESS_ERRORS = {
  tooFewLines: `Address must be at least ${ADDRESS_MIN_LINES} lines`,
  tooManyLines: `Address must be no more than ${ADDRESS_MAX_LINES} lines`,
  countryForBfpo: 'The last line of a BFPO address must not be a country.',
  notUkPostcode: 'Must be a real UK postcode',
  notPostcodeOrCountry: 'Last line of address must be a real UK postcode or another country',
  invalidCharacters: 'Address lines must not start with any of the following characters: @ ( ) = [ ] ” \\ / , < >',
  noFixedAbode: 'Must be a real address',
} as const;

export interface AddressCheckOptions {
  /** Whether the service may send letters abroad (Notify's international_letters permission). Default true. */
  allowInternational?: boolean;
}

export interface AddressCheck {
  ok: boolean;
  /** Every rule the address breaks, in the order Notify checks them (Notify's API reports the first). */
  errors: string[];
  /** The lines as they will be printed: tidied, the postcode formatted, "United Kingdom" dropped, a country named canonically. */
  lines: string[];
  /** The formatted UK postcode, or null. */
  postcode: string | null;
  international: boolean;
  postage: PostageZone;
  /** The country the address is in (canonical name). */
  country: string;
  bfpo: number | null;
}

/** Upper case, no spaces: how Notify compares postcodes. */
export function normalisePostcode(postcode: string): string {
  return postcode.replace(/\s+/g, '').toUpperCase();
}

const POSTCODE = new RegExp(`^(?:${UK_POSTCODE_ZONES.join('|')})[0-9][0-9A-Z]?[0-9][ABD-HJLNP-UW-Z]{2}$`);

/** True when the text is a real UK postcode (a known postcode area and the right shape). */
export function isRealUkPostcode(postcode: string): boolean {
  return POSTCODE.test(normalisePostcode(postcode));
}

/** "sw1a1aa" becomes "SW1A 1AA"; null when it is not a real UK postcode. */
export function formatPostcode(postcode: string): string | null {
  if (!isRealUkPostcode(postcode)) return null;
  const p = normalisePostcode(postcode);
  return `${p.slice(0, -3)} ${p.slice(-3)}`;
}

const BFPO = /^\s*bfpo\s*(?:c\/o)?(?:\s*(\d+))?\s*$/i;

/** Checks a letter's address lines (any line may itself hold several lines). */
export function checkPostalAddress(lines: readonly string[], opts: AddressCheckOptions = {}): AddressCheck {
  const allowInternational = opts.allowInternational ?? true;
  let tidy = normaliseNewlines(lines.join('\n'))
    .split('\n')
    .map((line) => removeWhitespaceBeforePunctuation(normaliseWhitespace(line).replace(/[ ,]+$/, '')))
    .filter(Boolean);
  if (tidy.length === 0) tidy = [''];

  let bfpo: number | null = null;
  const bfpoLine = tidy.find((line) => BFPO.exec(line)?.[1]);
  if (bfpoLine) {
    bfpo = Number(BFPO.exec(bfpoLine)![1]);
    tidy = tidy.filter((line) => !BFPO.test(line));
  }

  let trailingUk = 0;
  for (let i = tidy.length - 1; i >= 0 && findCountry(tidy[i]) === UK; i -= 1) trailingUk += 1;
  const named = tidy.length ? findCountry(tidy[tidy.length - 1]) : null;
  const country = named ?? UK;
  const withoutCountry = named ? tidy.slice(0, tidy.length - (trailingUk || 1)) : tidy;
  const postage = postageZone(country);
  const international = postage !== 'united-kingdom';
  const postcode = international || withoutCountry.length === 0 ? null : formatPostcode(withoutCountry[withoutCountry.length - 1]);

  let normalised: string[];
  if (bfpo !== null) {
    if (international) normalised = [...withoutCountry, `BFPO ${bfpo}`, country];
    else if (postcode) normalised = [...withoutCountry.slice(0, -1), postcode, `BFPO ${bfpo}`];
    else normalised = [...withoutCountry, `BFPO ${bfpo}`];
  } else if (international) normalised = [...withoutCountry, country];
  else if (postcode) normalised = [...withoutCountry.slice(0, -1), postcode];
  else normalised = withoutCountry;
  normalised = normalised.filter((line) => line !== '');

  const invalidCountryForBfpo = international && bfpo !== null;
  const validLastLine = (allowInternational && international && bfpo === null) || postcode !== null || (bfpo !== null && !invalidCountryForBfpo);
  const noFixedAbode = normalised.some((line) => line.toLowerCase() === 'nfa') || /no fixed (abode|address)/i.test(normalised.join('\n'));

  const errors: string[] = [];
  if (normalised.length < ADDRESS_MIN_LINES) errors.push(ADDRESS_ERRORS.tooFewLines);
  if (normalised.length > ADDRESS_MAX_LINES) errors.push(ADDRESS_ERRORS.tooManyLines);
  if (invalidCountryForBfpo) errors.push(ADDRESS_ERRORS.countryForBfpo);
  else if (!validLastLine) errors.push(allowInternational ? ADDRESS_ERRORS.notPostcodeOrCountry : ADDRESS_ERRORS.notUkPostcode);
  if (normalised.some((line) => INVALID_CHARACTERS_AT_START_OF_ADDRESS_LINE.includes(line[0]))) errors.push(ADDRESS_ERRORS.invalidCharacters);
  if (noFixedAbode) errors.push(ADDRESS_ERRORS.noFixedAbode);

  return { ok: errors.length === 0, errors, lines: normalised, postcode, international, postage, country, bfpo };
}

/**
 * The address lines in a Notify letter's personalisation: address_line_1 to address_line_7, or
 * address_line_1 to address_line_6 and postcode (keys matched as placeholders are).
 */
export function addressLinesFromPersonalisation(personalisation: Personalisation | undefined): string[] {
  const values = personalisationLookup(personalisation);
  const keys = values.has('addressline7')
    ? ['addressline1', 'addressline2', 'addressline3', 'addressline4', 'addressline5', 'addressline6', 'addressline7']
    : ['addressline1', 'addressline2', 'addressline3', 'addressline4', 'addressline5', 'addressline6', 'postcode'];
  return keys.map((key) => {
    const v = values.get(key);
    return v === undefined || v === null ? '' : String(v);
  });
}
