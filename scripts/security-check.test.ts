import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLockfile, findSecrets, globToRegExp, parseAllowlist, runAudit, runSecurityCheck } from './security-check';

// Fakes are assembled at run time so this file itself does not trip the scan of the repository.
const FAKE_AWS_KEY = ['AKIA', 'Z7Q4', 'W2LM', 'P9XK', 'R3TB'].join('');
const FAKE_STRIPE = ['sk', 'live', 'Zq8vN3xW1rT6yU0pL4mK9jH2'].join('_');
const PRIVATE_KEY = `-----BEGIN ${'RSA PRIVATE'} KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----`;

const LOCKFILE_OK = `lockfileVersion: '9.0'

importers:

  .:
    dependencies:
      left-pad:
        specifier: 1.3.0
        version: 1.3.0
      '@me/lib':
        specifier: workspace:*
        version: link:packages/lib

packages:

  left-pad@1.3.0:
    resolution: {integrity: sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQ9QkOcs4LjA7Ab1zqBsSzNUa4nJ0AemRsnc2BhcA9AJs1Rg==}
`;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): void {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

function tempRepo(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dawg-security-'));
  dirs.push(dir);
  git(dir, 'init', '-q');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  git(dir, 'add', '.');
  return dir;
}

describe('secret scanning', () => {
  it('finds a planted AWS key in a git repository and names file and line', async () => {
    const root = tempRepo({
      'package.json': JSON.stringify({ packageManager: 'pnpm@12.4.2' }),
      'pnpm-lock.yaml': LOCKFILE_OK,
      'src/config.ts': `export const region = 'us-east-1';\nexport const key = '${FAKE_AWS_KEY}';\n`,
      'README.md': 'nothing to see\n',
    });
    const report = await runSecurityCheck({ root, audit: false });
    expect(report.findings).toEqual([
      expect.objectContaining({ check: 'secrets', rule: 'aws-access-key-id', file: 'src/config.ts', line: 2 }),
    ]);
    // The report shows where, not the whole key.
    expect(JSON.stringify(report.findings)).not.toContain(FAKE_AWS_KEY);
  });

  it('also scans new files that are not yet committed or added, but not ignored ones', async () => {
    const root = tempRepo({ 'package.json': '{}', '.gitignore': '.env\n' });
    writeFileSync(join(root, 'new.ts'), `const k = '${FAKE_AWS_KEY}';`);
    writeFileSync(join(root, '.env'), `AWS_ACCESS_KEY_ID=${FAKE_AWS_KEY}`);
    const report = await runSecurityCheck({ root, audit: false, allowlistFile: join(root, 'none.txt') });
    expect(report.findings.filter((f) => f.check === 'secrets').map((f) => f.file)).toEqual(['new.ts']);
  });

  it('detects Stripe live keys, private keys and high-entropy *_SECRET assignments; skips references', () => {
    const none = parseAllowlist('');
    const text = [
      `STRIPE_SECRET_KEY=${FAKE_STRIPE}`,
      PRIVATE_KEY,
      `const JWT_SECRET = "${'Zx9Qw2Er7Ty1Ui5Op3As8Df4Gh6Jk0Lm'}";`,
      'const SESSION_SECRET = process.env.SESSION_SECRET;',
      "const API_KEY = 'aaaaaaaaaaaaaaaaaaaaaaaa';",
    ].join('\n');
    const rules = findSecrets('x.env', text, none).map((f) => `${f.rule}@${f.line}`);
    expect(rules).toContain('stripe-live-key@1');
    expect(rules).toContain('private-key@2');
    expect(rules).toContain('generic-secret-assignment@5');
    // Line 6 is a reference to another variable, line 7 a value with no entropy.
    expect(rules.filter((r) => r.endsWith('@6') || r.endsWith('@7'))).toEqual([]);
  });

  it('reads an empty assignment in an env template as empty, not as the next line', () => {
    const text = ['AWS_SECRET_ACCESS_KEY=', 'AWS_REGION=us-east-1', 'STRIPE_SECRET_KEY=', 'STRIPE_PUBLISHABLE_KEY=x'];
    expect(findSecrets('api.env.example', text.join('\n'), parseAllowlist(''))).toEqual([]);
    const filled = findSecrets(
      'api.env.example',
      `JWT_SECRET=${'Zx9Qw2Er7Ty1Ui5Op3As8Df4Gh6Jk0Lm'}`,
      parseAllowlist(''),
    );
    expect(filled.map((f) => f.rule)).toEqual(['generic-secret-assignment']);
  });

  it('the allowlist skips known fakes by value or file, and rejects malformed lines', () => {
    const allow = parseAllowlist('# fixtures\nvalue ^test-only-\nfile fixtures/**\n');
    expect(findSecrets('a.ts', "JWT_SECRET='test-only-jwt-secret-0123456789abcdef'", allow)).toEqual([]);
    expect(findSecrets('fixtures/deep/k.ts', `k='${FAKE_AWS_KEY}'`, allow)).toEqual([]);
    expect(findSecrets('src/k.ts', `k='${FAKE_AWS_KEY}'`, allow)).toHaveLength(1);
    expect(() => parseAllowlist('allow everything')).toThrow(/expected "file <glob>"/);
    expect(() => parseAllowlist('rule no-such-rule **/test/**')).toThrow(/expected/);
    // A rule line silences one rule in matching files only: the AWS rule still fires in test code.
    const tests = parseAllowlist('rule generic-secret-assignment **/test/**');
    const fixture = `PASSWORD = 'Zx9Qw2Er7Ty1Ui5Op3As8'\nkey = '${FAKE_AWS_KEY}'`;
    expect(findSecrets('pkg/test/helpers.ts', fixture, tests).map((f) => f.rule)).toEqual(['aws-access-key-id']);
    expect(
      findSecrets('pkg/src/app.ts', fixture, tests)
        .map((f) => f.rule)
        .sort(),
    ).toEqual(['aws-access-key-id', 'generic-secret-assignment']);
    expect(globToRegExp('packages/*/fixtures/**').test('packages/api/fixtures/a/b.json')).toBe(true);
    expect(globToRegExp('*.md').test('docs/a.md')).toBe(false);
  });
});

describe('lockfile policy', () => {
  it('accepts registry packages and workspace links', () => {
    const root = tempRepo({
      'package.json': JSON.stringify({ packageManager: 'pnpm@12.4.2' }),
      'pnpm-lock.yaml': LOCKFILE_OK,
    });
    expect(checkLockfile(root)).toEqual([]);
  });

  it('names tarball and git sources, an unpinned package manager and a missing lockfile', () => {
    const bad = `${LOCKFILE_OK}
  evil@https://example.com/evil-1.0.0.tgz:
    resolution: {tarball: https://example.com/evil-1.0.0.tgz}

  forked@git+https://github.com/x/forked.git#abc:
    resolution: {type: git, repo: https://github.com/x/forked.git, commit: abc}
`;
    const root = tempRepo({ 'package.json': JSON.stringify({ packageManager: 'pnpm@^12' }), 'pnpm-lock.yaml': bad });
    const messages = checkLockfile(root).map((f) => `${f.rule}: ${f.message}`);
    expect(messages).toEqual([
      expect.stringMatching(/^package-manager-pinned: .*pnpm@\^12/),
      expect.stringMatching(/^npm-registry-only: evil@.*tarball|evil.*example\.com/),
      expect.stringMatching(/^npm-registry-only: forked@.*github\.com/),
    ]);
    const missing = tempRepo({ 'package.json': JSON.stringify({ packageManager: 'pnpm@12.4.2' }) });
    expect(checkLockfile(missing).map((f) => f.rule)).toEqual(['lockfile-present']);
  });
});

describe('audit', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** A stand-in npm registry: answers /-/ping, and the bulk advisory endpoint with `status` and `body`. */
  const fakeRegistry = (status: number, body: unknown) =>
    new Promise<string>((resolve) => {
      server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          if (req.url?.endsWith('/-/ping')) return res.end('{}');
          if (req.url?.includes('/advisories/bulk')) {
            res.statusCode = status;
            res.setHeader('content-type', 'application/json');
            return res.end(JSON.stringify(body));
          }
          res.statusCode = 404;
          res.end('{}');
        });
      }).listen(0, '127.0.0.1', () => {
        const address = server?.address();
        resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`);
      });
    });

  const auditedRepo = () =>
    tempRepo({
      'package.json': JSON.stringify({ name: 'x', version: '1.0.0', dependencies: { 'left-pad': '1.3.0' } }),
      'pnpm-lock.yaml': `${LOCKFILE_OK}\nsnapshots:\n\n  left-pad@1.3.0: {}\n`,
    });

  it('reports a critical advisory from the registry as a finding', async () => {
    const registry = await fakeRegistry(200, {
      'left-pad': [
        {
          id: 1,
          url: 'https://github.com/advisories/GHSA-0000-0000-0000',
          title: 'Prototype pollution',
          severity: 'critical',
          vulnerable_versions: '<=1.3.0',
          cwe: [],
          cvss: { score: 9.8, vectorString: null },
        },
      ],
    });
    const outcome = await runAudit(auditedRepo(), { registry });
    expect(outcome.note).toBeUndefined();
    expect(outcome.findings).toEqual([
      expect.objectContaining({
        check: 'audit',
        rule: 'critical-advisory',
        message: expect.stringContaining('left-pad: Prototype pollution'),
      }),
    ]);
  });

  it('is skipped with a note, not failed, when the audit endpoint errors or the registry is unreachable', async () => {
    const registry = await fakeRegistry(405, { error: 'Method Not Allowed' });
    const refused = await runAudit(auditedRepo(), { registry });
    expect(refused).toEqual({ findings: [], note: expect.stringMatching(/^audit skipped: .*405/) });

    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    const offline = await runAudit(auditedRepo(), { registry: 'http://127.0.0.1:9/' });
    expect(offline).toEqual({ findings: [], note: expect.stringMatching(/^audit skipped: .*not reachable/) });
  });
});
