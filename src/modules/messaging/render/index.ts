// Weft's message template rendering: pure functions, no database. See README.md for the rules
// and where in GOV.UK Notify each comes from.

export {
  ADDRESS_ERRORS,
  ADDRESS_MAX_LINES,
  ADDRESS_MIN_LINES,
  type AddressCheck,
  type AddressCheckOptions,
  addressLinesFromPersonalisation,
  checkPostalAddress,
  formatPostcode,
  isRealUkPostcode,
  normalisePostcode,
} from './address.js';
export { findCountry, type PostageZone, postageZone } from './countries.js';
export { type EmailOptions, type EmailTemplate, type RenderedEmail, renderEmail } from './email.js';
export { LETTER_MAX_PAGES, type LetterOptions, type LetterTemplate, letterDate, type RenderedLetter, renderLetter, renderLetterPdf } from './letter.js';
export { type Block, type Inline, parseBlocks } from './markdown.js';
export {
  type FillOptions,
  type Filled,
  fill,
  isTruthy,
  type ListStyle,
  missingPersonalisationMessage,
  type Personalisation,
  placeholderKey,
  placeholders,
} from './placeholders.js';
export { type Preview, type PreviewOptions, type PreviewTemplate, preview, type TemplateType } from './preview.js';
export { RCS_MAX_SUGGESTION_TEXT, RCS_MAX_SUGGESTIONS, RCS_MAX_TEXT, type RcsOptions, type RcsSuggestion, type RenderedRcs, renderRcs } from './rcs.js';
export {
  GSM_CHARACTERS,
  GSM_EXTENDED_CHARACTERS,
  nonGsmCharacters,
  type RenderedSms,
  renderSms,
  SMS_CHAR_COUNT_LIMIT,
  type SmsEncoding,
  type SmsOptions,
  smsCharacterCount,
  smsCostPence,
  smsEncode,
  smsFragmentCount,
  smsTooLongMessage,
} from './sms.js';
export { type RenderedVoice, type RenderedVoiceMenuOption, renderVoice, spokenUrl, type VoiceMenuOption, type VoiceOptions } from './voice.js';
