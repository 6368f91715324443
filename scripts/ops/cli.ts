/**
 * The small command-line layer shared by the operations scripts: `--name value` / `--name=value` / `--flag`
 * options with defaults from the environment, `--help` text, and the main-module check.
 */
import { pathToFileURL } from 'node:url';

export interface OptionSpec {
  /** Long name without dashes (`base-url`). */
  name: string;
  /** Environment variable used when the option is not given. */
  env?: string;
  default?: string;
  /** A flag takes no value (`--strict`). */
  flag?: boolean;
  help: string;
}

export interface CommandSpec {
  /** How to run it (`pnpm ops:smoke`). */
  usage: string;
  description: string;
  options: OptionSpec[];
  /** Extra lines after the options (exit codes, examples). */
  epilogue?: string;
}

export class UsageError extends Error {}

export function helpText(spec: CommandSpec): string {
  const width = Math.max(...spec.options.map((o) => o.name.length + (o.flag ? 0 : 8))) + 4;
  const lines = spec.options.map((o) => {
    const left = `  --${o.name}${o.flag ? '' : ' <value>'}`;
    const extra = [o.env ? `env ${o.env}` : '', o.default !== undefined ? `default ${o.default}` : '']
      .filter(Boolean)
      .join(', ');
    return `${left.padEnd(width + 2)}${o.help}${extra ? ` (${extra})` : ''}`;
  });
  return [
    `Usage: ${spec.usage}`,
    '',
    spec.description,
    '',
    'Options:',
    ...lines,
    `  --help${' '.repeat(Math.max(1, width - 4))}show this text`,
    ...(spec.epilogue ? ['', spec.epilogue] : []),
    '',
  ].join('\n');
}

/**
 * Parses argv into option values (strings; flags are 'true' or undefined). Prints help and exits 0 on --help;
 * throws UsageError on an unknown option or a missing value.
 */
export function parseArgs(
  spec: CommandSpec,
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText(spec));
    process.exit(0);
  }
  const values: Record<string, string | undefined> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}" (see --help)`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const option = spec.options.find((o) => o.name === name);
    if (!option) throw new UsageError(`unknown option --${name} (see --help)`);
    if (option.flag) {
      values[name] = 'true';
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    values[name] = value;
  }
  for (const o of spec.options) {
    if (values[o.name] !== undefined) continue;
    const fromEnv = o.env ? env[o.env] : undefined;
    values[o.name] = fromEnv !== undefined && fromEnv !== '' ? fromEnv : o.default;
  }
  return values;
}

export function numberOption(values: Record<string, string | undefined>, name: string): number {
  const raw = values[name];
  const n = Number(raw);
  if (raw === undefined || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number (got "${raw}")`);
  return n;
}

export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && url === pathToFileURL(process.argv[1]).href;
}

/** Runs a script's main, mapping UsageError to exit 2 and anything else to exit 1 with its message. */
export function run(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`${err.message}\n`);
        process.exitCode = 2;
        return;
      }
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
