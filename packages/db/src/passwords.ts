/**
 * Password hashing: argon2id (OWASP's first choice) with m = 19 MiB, t = 2, p = 1, through @node-rs/argon2, which
 * hashes on its own thread pool, so a login never blocks the event loop. Hashes are PHC strings
 * (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) that carry their parameters: raising the cost later keeps old
 * hashes verifiable, and `needsRehash` says when to upgrade one at login. Hashes of the earlier scrypt scheme
 * (`scrypt$…`, dev databases seeded before argon2) still verify and always need a rehash.
 */
import { hash, verify } from '@node-rs/argon2';
import { scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const ARGON2_PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
/** `Algorithm.Argon2id` of @node-rs/argon2: a `const enum`, which isolated modules cannot import. */
const ARGON2ID = 2;

/** What test fixtures store instead of a real hash: never verifies (it is not a PHC string). */
export const UNUSABLE_PASSWORD_HASH = '!unusable';

/** Passwords are compared in Unicode normal form KC, so the same password typed on two keyboards matches. */
function normalise(password: string): string {
  return password.normalize('NFKC');
}

export async function hashPassword(password: string): Promise<string> {
  return hash(normalise(password), { algorithm: ARGON2ID, ...ARGON2_PARAMS });
}

interface Argon2Params {
  m: number;
  t: number;
  p: number;
}

function parseArgon2(stored: string): Argon2Params | null {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(stored);
  if (!match) return null;
  return { m: Number(match[1]), t: Number(match[2]), p: Number(match[3]) };
}

function parseScrypt(stored: string): { logN: number; r: number; p: number; salt: Buffer; key: Buffer } | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [logN, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![logN, r, p].every((n) => Number.isInteger(n) && n > 0) || logN > 20 || r > 32 || p > 16) return null;
  const key = Buffer.from(parts[5]!, 'base64');
  if (key.length !== 32) return null;
  return { logN, r, p, salt: Buffer.from(parts[4]!, 'base64'), key };
}

function scryptKey(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** logN, r, p, maxmem: 256 * 2 ** logN * r };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, 32, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Constant-time check of a password against a stored hash; a malformed or unknown hash never verifies. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  if (parseArgon2(stored)) {
    try {
      return await verify(stored, normalise(password));
    } catch {
      return false;
    }
  }
  const legacy = parseScrypt(stored);
  if (!legacy) return false;
  const key = await scryptKey(normalise(password), legacy.salt, legacy.logN, legacy.r, legacy.p);
  return timingSafeEqual(key, legacy.key);
}

/** True when a hash is weaker than today's parameters (or of an older scheme): rehash it at the next login. */
export function needsRehash(stored: string): boolean {
  const params = parseArgon2(stored);
  if (!params) return true;
  return (
    params.m < ARGON2_PARAMS.memoryCost || params.t < ARGON2_PARAMS.timeCost || params.p < ARGON2_PARAMS.parallelism
  );
}

/**
 * A real hash of a random password, computed once: logins for unknown emails verify against it so they take as long
 * as logins for known ones (no account enumeration by timing).
 */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(crypto.randomUUID());
  return dummyHash;
}
