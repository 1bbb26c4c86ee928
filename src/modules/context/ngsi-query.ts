/**
 * The NGSI-LD query language (ETSI GS CIM 009, clause 4.9) for the `q` parameter:
 * a parser to a small tree, and an evaluator over normalised entities.
 *
 *   q=availableSpotNumber>10;category=="public"
 *   q=(no2>40|pm25>25);dateObserved>=2026-01-01T00:00:00Z
 *   q=status=="free","closed"          value list: any of
 *   q=totalSpotNumber==100..200        range, inclusive
 *   q=name~="(?i)^st"                  regular expression (checked for safety)
 *   q=refParkingSite==urn:ngsi-ld:OffStreetParking:0193…
 *   q=address[postalCode]=="OX1 1BX"   a member of a structured value
 *   q=no2.unitCode=="GQ"               a sub-attribute (or observedAt, unitCode)
 *   q=location                         the attribute exists
 *
 * `;` (and) binds tighter than `|` (or); parentheses group. Strings are quoted with
 * double quotes; numbers, true/false, dates, date-times, times and URIs are not.
 */

export type QValue =
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'datetime'; value: number; text: string }
  | { kind: 'date'; value: string }
  | { kind: 'time'; value: string }
  | { kind: 'uri'; value: string };

export type QOperand = QValue | { kind: 'list'; values: QValue[] } | { kind: 'range'; from: QValue; to: QValue } | { kind: 'regex'; regex: RegExp };

export type QPathSegment = { kind: 'attr'; name: string } | { kind: 'sub'; name: string } | { kind: 'member'; name: string };

export type QOp = '==' | '!=' | '>' | '>=' | '<' | '<=' | '~=' | '!~=';

export type QNode = { kind: 'and' | 'or'; items: QNode[] } | { kind: 'term'; path: QPathSegment[]; text: string; op?: QOp; operand?: QOperand };

export class QuerySyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

const MAX_Q_LENGTH = 4000;
const MAX_TERMS = 100;
const MAX_DEPTH = 20;
const NAME = /[A-Za-z0-9_]/;
const OPERATORS: QOp[] = ['!~=', '==', '!=', '>=', '<=', '~=', '>', '<'];

/** Parses a `q` expression; throws QuerySyntaxError saying where and why. */
export function parseQuery(text: string): QNode {
  if (text.length > MAX_Q_LENGTH) throw new QuerySyntaxError(`The query is longer than ${MAX_Q_LENGTH} characters.`, MAX_Q_LENGTH);
  const p = new Parser(text);
  const node = p.expression(0);
  if (p.pos < text.length) throw new QuerySyntaxError(p.at(`unexpected "${text[p.pos]}"`), p.pos);
  return node;
}

class Parser {
  pos = 0;
  terms = 0;
  constructor(readonly s: string) {}

  at(what: string): string {
    return `${what[0].toUpperCase()}${what.slice(1)} at position ${this.pos + 1} of the query.`;
  }

  fail(what: string): never {
    throw new QuerySyntaxError(this.at(what), this.pos);
  }

  /** or-expression := and-expression ('|' and-expression)* */
  expression(depth: number): QNode {
    if (depth > MAX_DEPTH) this.fail('too many nested parentheses');
    const items = [this.conjunction(depth)];
    while (this.s[this.pos] === '|') {
      this.pos++;
      items.push(this.conjunction(depth));
    }
    return items.length === 1 ? items[0] : { kind: 'or', items };
  }

  conjunction(depth: number): QNode {
    const items = [this.primary(depth)];
    while (this.s[this.pos] === ';') {
      this.pos++;
      items.push(this.primary(depth));
    }
    return items.length === 1 ? items[0] : { kind: 'and', items };
  }

  primary(depth: number): QNode {
    if (this.s[this.pos] === '(') {
      this.pos++;
      const inner = this.expression(depth + 1);
      if (this.s[this.pos] !== ')') this.fail('expected ")"');
      this.pos++;
      return inner;
    }
    return this.term();
  }

  term(): QNode {
    if (++this.terms > MAX_TERMS) this.fail(`more than ${MAX_TERMS} query terms`);
    const start = this.pos;
    const path = this.attribute();
    const op = OPERATORS.find((o) => this.s.startsWith(o, this.pos));
    if (!op) {
      if (this.pos < this.s.length && !';|)'.includes(this.s[this.pos])) this.fail(`expected an operator (==, !=, >, >=, <, <=, ~=, !~=) after "${this.s.slice(start, this.pos)}"`);
      return { kind: 'term', path, text: this.s.slice(start, this.pos) };
    }
    this.pos += op.length;
    const operand = op === '~=' || op === '!~=' ? this.regex() : this.operand(op);
    return { kind: 'term', path, op, operand, text: this.s.slice(start, this.pos) };
  }

  name(): string {
    const start = this.pos;
    while (this.pos < this.s.length && NAME.test(this.s[this.pos])) this.pos++;
    if (this.pos === start) this.fail(this.pos < this.s.length ? `expected an attribute name, found "${this.s[this.pos]}"` : 'expected an attribute name at the end');
    return this.s.slice(start, this.pos);
  }

  /** attrName ('.' attrName)* ('[' attrName ']')* */
  attribute(): QPathSegment[] {
    const path: QPathSegment[] = [{ kind: 'attr', name: this.name() }];
    while (this.s[this.pos] === '.' && this.s[this.pos + 1] !== '.') {
      this.pos++;
      path.push({ kind: 'sub', name: this.name() });
    }
    while (this.s[this.pos] === '[') {
      this.pos++;
      path.push({ kind: 'member', name: this.name() });
      if (this.s[this.pos] !== ']') this.fail('expected "]"');
      this.pos++;
    }
    return path;
  }

  /** The raw text of a value: up to ; | or ) outside quotes. */
  rawValue(): string {
    const start = this.pos;
    let quoted = false;
    while (this.pos < this.s.length) {
      const c = this.s[this.pos];
      if (quoted) {
        if (c === '\\') this.pos++;
        else if (c === '"') quoted = false;
      } else if (c === '"') quoted = true;
      else if (c === ';' || c === '|' || c === ')') break;
      this.pos++;
    }
    if (quoted) this.fail('a quoted string is not closed');
    if (this.pos === start) this.fail('expected a value');
    return this.s.slice(start, this.pos);
  }

  operand(op: QOp): QOperand {
    const start = this.pos;
    const raw = this.rawValue();
    const items = splitOutsideQuotes(raw, ',');
    const equality = op === '==' || op === '!=';
    if (items.length > 1) {
      if (!equality) this.failAt(start, 'a list of values is only allowed with == or !=');
      return { kind: 'list', values: items.map((v) => this.value(v, start, true)) };
    }
    const range = splitOutsideQuotes(raw, '..');
    if (range.length === 2) {
      if (!equality) this.failAt(start, 'a range is only allowed with == or !=');
      const from = this.value(range[0], start, false);
      const to = this.value(range[1], start, false);
      if (from.kind !== to.kind) this.failAt(start, 'both ends of a range must be of the same kind');
      return { kind: 'range', from, to };
    }
    const value = this.value(raw, start, equality);
    if (!equality && value.kind === 'boolean') this.failAt(start, 'true and false can only be compared with == or !=');
    return value;
  }

  failAt(pos: number, what: string): never {
    this.pos = pos;
    this.fail(what);
  }

  value(raw: string, start: number, allowUri: boolean): QValue {
    const v = raw.trim();
    if (v.startsWith('"')) {
      if (v.length < 2 || !v.endsWith('"')) this.failAt(start, `"${v}" is not a properly quoted string`);
      return { kind: 'string', value: unquote(v.slice(1, -1)) };
    }
    if (/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) return { kind: 'number', value: Number(v) };
    if (v === 'true' || v === 'false') return { kind: 'boolean', value: v === 'true' };
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(v)) {
      const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(v) ? v : `${v}Z`);
      if (Number.isNaN(ms)) this.failAt(start, `"${v}" is not a real date and time`);
      return { kind: 'datetime', value: ms, text: v };
    }
    if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return { kind: 'date', value: v };
    if (/^\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z?$/.test(v)) return { kind: 'time', value: v.replace(/Z$/, '') };
    if (allowUri && /^[A-Za-z][A-Za-z0-9+.-]*:[^\s"<>]+$/.test(v)) return { kind: 'uri', value: v };
    return this.failAt(start, `"${v}" is not a number, a date, true or false${allowUri ? ', or a URI' : ''}: put text in double quotes, like "${v.replace(/"/g, '')}"`);
  }

  /** A regular expression: quoted, or up to the next ; or | outside its own parentheses. */
  regex(): QOperand {
    const start = this.pos;
    let source: string;
    if (this.s[this.pos] === '"') {
      const raw = this.rawValue();
      if (!raw.endsWith('"') || raw.length < 2) this.failAt(start, 'the regular expression is not properly quoted');
      source = unquote(raw.slice(1, -1));
    } else {
      let depth = 0;
      let inClass = false;
      while (this.pos < this.s.length) {
        const c = this.s[this.pos];
        if (c === '\\') {
          this.pos += 2;
          continue;
        }
        if (inClass) {
          if (c === ']') inClass = false;
        } else if (c === '[') inClass = true;
        else if (c === '(') depth++;
        else if (c === ')') {
          if (depth === 0) break;
          depth--;
        } else if ((c === ';' || c === '|') && depth === 0) break;
        this.pos++;
      }
      source = this.s.slice(start, this.pos);
    }
    if (!source) this.failAt(start, 'expected a regular expression');
    try {
      return { kind: 'regex', regex: safeRegex(source) };
    } catch (err) {
      return this.failAt(start, (err as Error).message.replace(/\.$/, ''));
    }
  }
}

function unquote(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (s.startsWith(sep, i)) {
      out.push(s.slice(last, i));
      i += sep.length - 1;
      last = i + 1;
    }
  }
  out.push(s.slice(last));
  return out;
}

const MAX_REGEX_LENGTH = 200;
/** Regular expressions are matched against at most this many characters of a value. */
const MAX_SUBJECT_LENGTH = 1000;

/**
 * Builds a RegExp from a client's pattern, refusing the constructs that can make the
 * backtracking engine take exponential time: back-references, look-arounds, and a
 * quantifier on a group that itself holds a quantifier or an alternation ((a+)+, (a|ab)*).
 * A leading (?i) makes the match case-insensitive, as in NGSI-LD brokers.
 */
export function safeRegex(pattern: string): RegExp {
  let flags = '';
  let source = pattern;
  if (source.startsWith('(?i)')) {
    flags = 'i';
    source = source.slice(4);
  }
  if (source.length > MAX_REGEX_LENGTH) throw new Error(`The regular expression is longer than ${MAX_REGEX_LENGTH} characters.`);
  if (/\\[1-9k]/.test(source)) throw new Error('Back-references are not allowed in a regular expression.');
  if (/\(\?(<?[=!])/.test(source)) throw new Error('Look-ahead and look-behind are not allowed in a regular expression.');
  // Find each group's contents and whether a quantifier follows it.
  const stack: { hasInnerRepeat: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') stack.push({ hasInnerRepeat: false });
    else if (c === ')') {
      const group = stack.pop();
      if (!group) throw new Error('The regular expression has an unmatched ")".');
      const quantified = isRepeat(source.slice(i + 1));
      if (quantified && group.hasInnerRepeat) throw new Error('A repeated group may not itself contain a repetition or an alternation: the pattern could take too long to match.');
      if (stack.length && (group.hasInnerRepeat || quantified)) stack[stack.length - 1].hasInnerRepeat = true;
    } else if (c === '|' || c === '*' || c === '+' || c === '{') {
      if (stack.length) stack[stack.length - 1].hasInnerRepeat = true;
    }
  }
  if (stack.length) throw new Error('The regular expression has an unmatched "(".');
  try {
    return new RegExp(source, flags);
  } catch {
    throw new Error('The regular expression is not valid.');
  }
}

/** True when the text starts with a quantifier that can repeat (not a lone "?"). */
function isRepeat(rest: string): boolean {
  return rest[0] === '*' || rest[0] === '+' || /^\{\d*,?\d*\}/.test(rest);
}

/** The attribute names (first path segments) a query refers to. */
export function queryAttributes(node: QNode, out = new Set<string>()): Set<string> {
  if (node.kind === 'term') out.add((node.path[0] as { name: string }).name);
  else for (const item of node.items) queryAttributes(item, out);
  return out;
}

// ---- Evaluation over normalised NGSI-LD entities ----

type Json = unknown;
const ATTRIBUTE_TYPES = new Set(['Property', 'Relationship', 'GeoProperty', 'LanguageProperty', 'ListProperty', 'ListRelationship', 'VocabProperty', 'JsonProperty']);

function isAttribute(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && ATTRIBUTE_TYPES.has(String((v as Record<string, Json>).type));
}

/** The value an attribute (or a plain member) stands for in a comparison. */
function attributeValue(node: Json): Json {
  if (!isAttribute(node)) return node;
  switch (node.type) {
    case 'Relationship':
      return node.object;
    case 'LanguageProperty':
      return node.languageMap && typeof node.languageMap === 'object' ? Object.values(node.languageMap as object) : undefined;
    case 'ListRelationship':
      return node.objectList;
    case 'ListProperty':
      return node.valueList;
    case 'VocabProperty':
      return node.vocab;
    case 'JsonProperty':
      return node.json;
    default:
      return node.value;
  }
}

/** Every value a path leads to in an entity (several when an attribute has several instances). */
export function resolvePath(entity: Record<string, Json>, path: QPathSegment[]): Json[] {
  let nodes: Json[] = [entity[(path[0] as { name: string }).name]].flat().filter((n) => n !== undefined);
  for (const seg of path.slice(1)) {
    const next: Json[] = [];
    for (const n of nodes) {
      if (seg.kind === 'sub') {
        if (typeof n === 'object' && n !== null && !Array.isArray(n)) {
          const v = (n as Record<string, Json>)[seg.name];
          if (v !== undefined) next.push(...[v].flat());
        }
      } else {
        for (const container of [attributeValue(n)].flat()) {
          if (typeof container === 'object' && container !== null && !Array.isArray(container)) {
            const v = (container as Record<string, Json>)[seg.name];
            if (v !== undefined) next.push(v);
          }
        }
      }
    }
    nodes = next;
  }
  return nodes.map(attributeValue).filter((v) => v !== undefined && v !== null);
}

/** A DateTime, Date or Time value as NGSI-LD writes it, { "@type": "DateTime", "@value": "…" }, unwrapped. */
function unwrap(v: Json): Json {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && '@value' in v) return (v as Record<string, Json>)['@value'];
  return v;
}

function compareScalar(actual: Json, q: QValue): number | undefined {
  const a = unwrap(actual);
  switch (q.kind) {
    case 'number':
      return typeof a === 'number' ? Math.sign(a - q.value) : undefined;
    case 'string':
    case 'uri':
      return typeof a === 'string' ? (a < q.value ? -1 : a > q.value ? 1 : 0) : undefined;
    case 'boolean':
      return typeof a === 'boolean' ? (a === q.value ? 0 : a ? 1 : -1) : undefined;
    case 'datetime': {
      if (typeof a !== 'string') return undefined;
      const ms = Date.parse(a);
      return Number.isNaN(ms) ? undefined : Math.sign(ms - q.value);
    }
    case 'date':
      return typeof a === 'string' && /^\d{4}-\d{2}-\d{2}/.test(a) ? cmp(a.slice(0, 10), q.value) : undefined;
    case 'time':
      return typeof a === 'string' ? cmp(a.replace(/Z$/, ''), q.value) : undefined;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function equalsOperand(actual: Json, operand: QOperand): boolean {
  if (operand.kind === 'list') return operand.values.some((v) => compareScalar(actual, v) === 0);
  if (operand.kind === 'range') {
    const lo = compareScalar(actual, operand.from);
    const hi = compareScalar(actual, operand.to);
    return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0;
  }
  if (operand.kind === 'regex') return false;
  return compareScalar(actual, operand) === 0;
}

function matchesTerm(actual: Json, op: QOp, operand: QOperand): boolean {
  // An array value matches when any of its elements does.
  if (Array.isArray(actual)) return op === '!=' || op === '!~=' ? actual.every((a) => matchesTerm(a, op, operand)) : actual.some((a) => matchesTerm(a, op, operand));
  switch (op) {
    case '==':
      return equalsOperand(actual, operand);
    case '!=':
      return !equalsOperand(actual, operand);
    case '~=':
    case '!~=': {
      const a = unwrap(actual);
      if (typeof a !== 'string' || operand.kind !== 'regex') return false;
      const hit = operand.regex.test(a.slice(0, MAX_SUBJECT_LENGTH));
      return op === '~=' ? hit : !hit;
    }
    default: {
      const c = compareScalar(actual, operand as QValue);
      if (c === undefined) return false;
      return op === '>' ? c > 0 : op === '>=' ? c >= 0 : op === '<' ? c < 0 : c <= 0;
    }
  }
}

/** True when the entity satisfies the query. A term about an attribute the entity lacks is false. */
export function evaluate(node: QNode, entity: Record<string, Json>): boolean {
  if (node.kind !== 'term') return node.kind === 'and' ? node.items.every((n) => evaluate(n, entity)) : node.items.some((n) => evaluate(n, entity));
  const values = resolvePath(entity, node.path);
  if (!node.op || !node.operand) return values.length > 0;
  if (values.length === 0) return false;
  const { op, operand } = node;
  if (op === '!=' || op === '!~=') return values.every((v) => matchesTerm(v, op, operand));
  return values.some((v) => matchesTerm(v, op, operand));
}
