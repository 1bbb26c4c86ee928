import { pathToFileURL } from 'node:url';

/**
 * The command line every benchmark shares: `--dialect sqlite|postgres`, whole-number options,
 * switches and text options, named by the spec; then main() runs and its result is printed as
 * one line of JSON (errors go to stderr with a non-zero exit code).
 */
export interface CliSpec {
  usage: string;
  /** --flag → option name, for whole numbers of at least 1 (underscores allowed: 1_000_000) */
  numbers?: Record<string, string>;
  /** --flag → option name, for text */
  strings?: Record<string, string>;
  /** --flag → [option name, value it sets] */
  switches?: Record<string, [string, unknown]>;
  /** --flag → parser of its value, for anything else */
  custom?: Record<string, (value: string, out: Record<string, unknown>) => void>;
  /** exit the process once the result is written (for benchmarks whose clients keep it alive) */
  exitWhenDone?: boolean;
}

export function parseOptions<T>(argv: string[], spec: CliSpec): T {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--dialect') {
      if (value !== 'sqlite' && value !== 'postgres') throw new Error('--dialect must be sqlite or postgres');
      out.dialect = value;
      i++;
    } else if (spec.switches?.[flag]) {
      const [name, set] = spec.switches[flag];
      out[name] = set;
    } else if (spec.numbers?.[flag]) {
      const num = Number(value?.replaceAll('_', ''));
      if (!Number.isInteger(num) || num < 1) throw new Error(`${flag} must be a whole number of at least 1`);
      out[spec.numbers[flag]] = num;
      i++;
    } else if (spec.strings?.[flag]) {
      if (value === undefined) throw new Error(`${flag} needs a value`);
      out[spec.strings[flag]] = value;
      i++;
    } else if (spec.custom?.[flag]) {
      spec.custom[flag](value, out);
      i++;
    } else throw new Error(`unknown argument ${flag}; usage: ${spec.usage}`);
  }
  return out as T;
}

/** Runs main with the parsed options when the file is run as a script (not when a test imports it). */
export function runIfMain<T>(metaUrl: string, main: (options: T) => Promise<unknown>, spec: CliSpec): void {
  if (!process.argv[1] || metaUrl !== pathToFileURL(process.argv[1]).href) return;
  Promise.resolve()
    .then(() => main(parseOptions<T>(process.argv.slice(2), spec)))
    .then((result) => process.stdout.write(`${JSON.stringify(result)}\n`, () => spec.exitWhenDone && process.exit(0)))
    .catch((err) => {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exitCode = 1;
    });
}
