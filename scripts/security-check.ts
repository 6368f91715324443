/**
 * `pnpm test:security`: offline checks of what the repository would ship.
 *
 * 1. Secrets in the tracked (and not-ignored new) files: AWS access keys, Stripe live keys, private keys, Anthropic,
 *    OpenAI and GitHub tokens, and high-entropy values assigned to *_SECRET / *_KEY / *_TOKEN / *_PASSWORD names.
 *    Known fakes (test fixtures, dev defaults, documentation examples) are listed in scripts/security-allowlist.txt.
 * 2. Lockfile policy: pnpm-lock.yaml exists, every package resolves from the npm registry by integrity hash (no git,
 *    tarball URL, file or directory sources), and package.json pins the package manager to an exact pnpm version.
 * 3. `pnpm audit --audit-level critical`, only when the registry's audit endpoint answers; offline or on an error
 *    it is skipped with a note, never failed. `--no-audit` skips it.
 *
 * Exits 1 naming each finding, 0 when there is none.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export interface Finding {
  check: 'secrets' | 'lockfile' | 'audit';
  rule: string;
  file?: string;
  line?: number;
  message: string;
}

export interface SecretRule {
  id: string;
  description: string;
  pattern: RegExp;
  /** Which capture group holds the secret (0 = the whole match). */
  group?: number;
  /** For generic assignments: the value must look random. */
  minEntropy?: number;
}

/** A member expression or CONSTANT_NAME on the right of `=`: a reference to a value, not a value. */
function looksLikeCode(value: string): boolean {
  return /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value) || /^[A-Z][A-Z0-9_]+$/.test(value);
}

/** Bits per character of the string's own character distribution. */
export function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

export const SECRET_RULES: readonly SecretRule[] = [
  { id: 'aws-access-key-id', description: 'AWS access key id', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g },
  {
    id: 'aws-secret-access-key',
    description: 'AWS secret access key',
    pattern: /aws_?secret_?access_?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    group: 1,
  },
  {
    id: 'stripe-live-key',
    description: 'Stripe live secret/restricted key',
    pattern: /\b[sr]k_live_[0-9A-Za-z]{16,}\b/g,
  },
  {
    id: 'private-key',
    description: 'private key block',
    pattern: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----/g,
  },
  { id: 'anthropic-key', description: 'Anthropic API key', pattern: /\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{20,}/g },
  {
    id: 'openai-key',
    description: 'OpenAI API key',
    pattern: /\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})/g,
  },
  { id: 'github-token', description: 'GitHub token', pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g },
  {
    id: 'generic-secret-assignment',
    description: 'high-entropy value assigned to a *_SECRET/*_KEY/*_TOKEN/*_PASSWORD name',
    // Upper-case (environment-style) names only: `password: validate(x)` in app code is not a secret. A value
    // followed by `(` is a call, not a literal. The value is on the same line: `NAME=` with an empty value (env
    // templates) must not pick up the next line.
    pattern:
      /\b[A-Z0-9_]*(?:SECRET|_KEY|_TOKEN|PASSWORD)["']?[ \t]*[:=][ \t]*["'`]?([A-Za-z0-9+/=_.~-]{16,})(?![A-Za-z0-9+/=_.~(-])/g,
    group: 1,
    minEntropy: 3.5,
  },
];

export interface Allowlist {
  /** Findings in files matching one of these are ignored. */
  files: RegExp[];
  /** Findings whose secret matches one of these (case-insensitive) are ignored. */
  values: RegExp[];
  /** Findings of one rule in matching files are ignored (e.g. the generic rule in test fixtures). */
  rules: { rule: string; file: RegExp }[];
}

/** `** / *` glob (only `*`, `**` and `?`) to an anchored regex over repo-relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Allowlist lines: `file <glob>`, `value <regex>` or `rule <rule-id> <glob>`; `#` starts a comment. Anything else
 * (including an unknown rule id) is an error, so a typo cannot silently allow nothing.
 */
export function parseAllowlist(text: string, source = 'allowlist'): Allowlist {
  const list: Allowlist = { files: [], values: [], rules: [] };
  const ids = new Set(SECRET_RULES.map((r) => r.id));
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') return;
    const [kind, ...rest] = line.split(/\s+/);
    const arg = rest.join(' ');
    if (kind === 'file' && arg) list.files.push(globToRegExp(arg));
    else if (kind === 'value' && arg) list.values.push(new RegExp(arg, 'i'));
    else if (kind === 'rule' && rest.length === 2 && ids.has(rest[0] ?? '')) {
      list.rules.push({ rule: rest[0] as string, file: globToRegExp(rest[1] as string) });
    } else {
      throw new Error(
        `${source}:${index + 1}: expected "file <glob>", "value <regex>" or "rule <rule-id> <glob>", got "${raw.trim()}"`,
      );
    }
  });
  return list;
}

export function loadAllowlist(path: string): Allowlist {
  return existsSync(path) ? parseAllowlist(readFileSync(path, 'utf8'), path) : { files: [], values: [], rules: [] };
}

function redactSecret(value: string): string {
  return `${value.slice(0, 4)}…(${value.length} chars)`;
}

/** Secrets in one file's text. */
export function findSecrets(file: string, text: string, allow: Allowlist): Finding[] {
  if (allow.files.some((re) => re.test(file))) return [];
  const findings: Finding[] = [];
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  for (const rule of SECRET_RULES) {
    if (allow.rules.some((r) => r.rule === rule.id && r.file.test(file))) continue;
    for (const match of text.matchAll(rule.pattern)) {
      const secret = match[rule.group ?? 0] ?? match[0];
      if (rule.minEntropy !== undefined && (looksLikeCode(secret) || shannonEntropy(secret) < rule.minEntropy))
        continue;
      if (allow.values.some((re) => re.test(secret))) continue;
      findings.push({
        check: 'secrets',
        rule: rule.id,
        file,
        line: lineOf(match.index),
        message: `${rule.description}: ${redactSecret(secret)}`,
      });
    }
  }
  return findings;
}

const MAX_SCAN_BYTES = 2 * 1024 * 1024;

/** Tracked files plus new files git does not ignore (so a secret is caught before its first commit). */
export function listRepoFiles(root: string): string[] {
  const result = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`git ls-files failed in ${root}: ${result.stderr || result.error?.message}`);
  return [...new Set(result.stdout.split('\0').filter(Boolean))].sort();
}

export function scanSecrets(root: string, allow: Allowlist): { findings: Finding[]; scanned: number } {
  const findings: Finding[] = [];
  let scanned = 0;
  for (const file of listRepoFiles(root)) {
    const path = join(root, file);
    let buffer: Buffer;
    try {
      if (!statSync(path).isFile() || statSync(path).size > MAX_SCAN_BYTES) continue;
      buffer = readFileSync(path);
    } catch {
      continue; // deleted in the work tree but still in the index
    }
    // Binary files (a NUL in the first 8 KiB, git's own heuristic) hold no greppable secrets.
    if (buffer.subarray(0, 8192).includes(0)) continue;
    scanned += 1;
    findings.push(...findSecrets(file, buffer.toString('utf8'), allow));
  }
  return { findings, scanned };
}

/** A version the npm registry serves: semver, possibly followed by pnpm's peer suffix `(peer@1.2.3)`. */
const REGISTRY_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?(?:\(.*\))*$/;

function splitPackageKey(key: string): { name: string; version: string } {
  const at = key.indexOf('@', key.startsWith('@') ? 1 : 0);
  return at < 0 ? { name: key, version: '' } : { name: key.slice(0, at), version: key.slice(at + 1) };
}

export function checkLockfile(root: string): Finding[] {
  const findings: Finding[] = [];
  const lockfile = join(root, 'pnpm-lock.yaml');
  const add = (rule: string, message: string, file = 'pnpm-lock.yaml') =>
    findings.push({ check: 'lockfile', rule, file, message });

  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { packageManager?: string };
  if (!/^pnpm@\d+\.\d+\.\d+(?:\+sha\d+\.[0-9a-f]+)?$/.test(pkg.packageManager ?? '')) {
    add(
      'package-manager-pinned',
      `packageManager must pin an exact pnpm version, got ${pkg.packageManager ?? 'nothing'}`,
      'package.json',
    );
  }
  const npmrc = join(root, '.npmrc');
  if (existsSync(npmrc)) {
    for (const line of readFileSync(npmrc, 'utf8').split('\n')) {
      const m = /^\s*(?:@[^:]+:)?registry\s*=\s*(\S+)/.exec(line);
      if (m && !/^https:\/\/registry\.npmjs\.org\/?$/.test(m[1] ?? '')) {
        add('npm-registry-only', `.npmrc points at another registry: ${m[1]}`, '.npmrc');
      }
    }
  }
  if (!existsSync(lockfile)) {
    add('lockfile-present', 'pnpm-lock.yaml is missing: commit it so installs are reproducible (--frozen-lockfile)');
    return findings;
  }
  const documents = parseAllDocuments(readFileSync(lockfile, 'utf8'));
  for (const doc of Array.isArray(documents) ? documents : [documents]) {
    if (doc.errors.length > 0) {
      add('lockfile-parses', `pnpm-lock.yaml does not parse: ${doc.errors[0]?.message ?? 'unknown error'}`);
      continue;
    }
    const data = doc.toJS() as {
      importers?: Record<string, Record<string, Record<string, { specifier?: string; version?: string }> | undefined>>;
      packages?: Record<string, { resolution?: Record<string, unknown> } | null>;
    } | null;
    for (const [key, entry] of Object.entries(data?.packages ?? {})) {
      const { name, version } = splitPackageKey(key);
      const resolution = entry?.resolution ?? {};
      const other = Object.keys(resolution).filter((k) => k !== 'integrity');
      if (typeof resolution.integrity !== 'string' || other.length > 0) {
        const where = ['tarball', 'repo', 'directory', 'path']
          .map((k) => resolution[k])
          .find((v) => typeof v === 'string');
        add(
          'npm-registry-only',
          `${name}@${version} is not resolved from the npm registry by integrity (${String(where ?? JSON.stringify(resolution))})`,
        );
      } else if (!REGISTRY_VERSION.test(version)) {
        add('npm-registry-only', `${name} resolves to a non-registry version "${version}"`);
      }
    }
    for (const [importer, groups] of Object.entries(data?.importers ?? {})) {
      for (const group of ['dependencies', 'devDependencies', 'optionalDependencies'] as const) {
        for (const [dep, spec] of Object.entries(groups[group] ?? {})) {
          const version = spec.version ?? '';
          const specifier = spec.specifier ?? '';
          if (/^(?:link:|workspace:)/.test(version) || /^workspace:/.test(specifier)) continue;
          if (
            /^(?:git|github:|gitlab:|bitbucket:|https?:|file:)/.test(specifier) ||
            /^(?:file:|https?:|git)/.test(version)
          ) {
            add(
              'npm-registry-only',
              `${importer} depends on ${dep} from ${specifier || version}, not the npm registry`,
            );
          }
        }
      }
    }
  }
  return findings;
}

export interface AuditOutcome {
  findings: Finding[];
  note?: string;
}

export interface AuditOptions {
  /** Registry to ask (default: pnpm's configured registry). */
  registry?: string;
  timeoutMs?: number;
}

function run(command: string, args: string[], cwd: string, timeoutMs: number) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }>((done) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ code: null, stdout, stderr, error: new Error(`no answer in ${timeoutMs / 1000} s`) });
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      done({ code: null, stdout, stderr, error });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function firstLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/[│×]/g, '').trim())
    .filter(Boolean)
    .slice(0, 3)
    .join(' ');
}

interface AuditAdvisory {
  module_name?: string;
  title?: string;
  severity?: string;
  url?: string;
}

/**
 * `pnpm audit --audit-level critical --json`. The registry is pinged first (5 s), so an offline machine skips at
 * once instead of waiting out pnpm's retries; a registry that answers without a report (an error status, a proxy
 * without the audit endpoint) is a note as well. Only a report listing critical advisories is a finding.
 */
export async function runAudit(root: string, options: AuditOptions = {}): Promise<AuditOutcome> {
  const registry = (options.registry ?? (await configuredRegistry(root))).replace(/\/?$/, '/');
  try {
    await fetch(new URL('-/ping', registry), { signal: AbortSignal.timeout(5_000) });
  } catch (err) {
    const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    return { findings: [], note: `audit skipped: ${registry} is not reachable (${reason})` };
  }
  const args = ['audit', '--audit-level', 'critical', '--json', '--registry', registry];
  const result = await run('pnpm', args, root, options.timeoutMs ?? 120_000);
  if (result.error) return { findings: [], note: `audit skipped: pnpm audit failed (${result.error.message})` };
  let report: { advisories?: Record<string, AuditAdvisory>; metadata?: { vulnerabilities?: Record<string, number> } };
  try {
    report = JSON.parse(result.stdout) as typeof report;
  } catch {
    const reason = firstLines(`${result.stderr}\n${result.stdout}`) || `exit ${result.code}`;
    return { findings: [], note: `audit skipped: the registry's audit endpoint did not answer (${reason})` };
  }
  const critical = report.metadata?.vulnerabilities?.critical;
  if (critical === undefined) {
    return { findings: [], note: 'audit skipped: the registry answered without a vulnerability report' };
  }
  const findings = Object.values(report.advisories ?? {})
    .filter((a) => a.severity === 'critical')
    .map<Finding>((a) => ({
      check: 'audit',
      rule: 'critical-advisory',
      message: `${a.module_name ?? '?'}: ${a.title ?? 'critical advisory'}${a.url ? ` (${a.url})` : ''}`,
    }));
  if (findings.length === 0 && critical > 0) {
    findings.push({
      check: 'audit',
      rule: 'critical-advisory',
      message: `${critical} critical vulnerabilities reported`,
    });
  }
  return { findings };
}

async function configuredRegistry(root: string): Promise<string> {
  const result = await run('pnpm', ['config', 'get', 'registry'], root, 15_000);
  const value = result.stdout.trim();
  return /^https?:\/\//.test(value) ? value : 'https://registry.npmjs.org/';
}

export interface SecurityReport {
  findings: Finding[];
  notes: string[];
}

export async function runSecurityCheck(options: {
  root: string;
  allowlistFile?: string;
  audit?: boolean;
}): Promise<SecurityReport> {
  const allow = loadAllowlist(options.allowlistFile ?? join(options.root, 'scripts/security-allowlist.txt'));
  const secrets = scanSecrets(options.root, allow);
  const notes = [`secrets: scanned ${secrets.scanned} files`];
  const findings = [...secrets.findings, ...checkLockfile(options.root)];
  if (options.audit !== false) {
    const audit = await runAudit(options.root);
    findings.push(...audit.findings);
    notes.push(audit.note ?? 'audit: no critical advisories');
  }
  return { findings, notes };
}

export function formatFinding(f: Finding): string {
  const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''}: ` : '';
  return `  [${f.check}/${f.rule}] ${where}${f.message}`;
}

async function main(): Promise<number> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const args = process.argv.slice(2);
  const report = await runSecurityCheck({ root, audit: !args.includes('--no-audit') });
  for (const note of report.notes) process.stdout.write(`${note}\n`);
  if (report.findings.length === 0) {
    process.stdout.write('security check passed: no findings\n');
    return 0;
  }
  process.stdout.write(`security check failed: ${report.findings.length} finding(s)\n`);
  for (const f of report.findings) process.stdout.write(`${formatFinding(f)}\n`);
  process.stdout.write(
    'Known fakes go in scripts/security-allowlist.txt (file, value or rule lines; see its header).\n',
  );
  return 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`security check could not run: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
