/**
 * The common-password list (OWASP ASVS 5.0 V6.2.4) and the check against it. Server-only: it reads
 * `data/common-passwords.txt`, so it is not exported from the package index (import `@dawg/shared/common-passwords`).
 * The list file holds the base entries; `expandCommonPasswords` derives the variants people actually use from them,
 * deterministically, so the shipped file stays short and reviewable.
 */
import { readFileSync } from 'node:fs';

/** Appended to every alphabetic entry (plus the years below). */
// prettier-ignore
const SUFFIXES = [
  '1', '2', '3', '7', '0', '00', '01', '11', '12', '13', '21', '22', '23', '69', '99', '123', '1234', '12345',
  '123456', '321', '666', '777', '1!', '123!', '!', '!!', '@', '#1', '@123',
];
/** Appended to the derived forms (leetspeak, plural, "my…", "ilove…", doubled). */
const SHORT_SUFFIXES = ['1', '12', '123', '!', '1!'];
const YEARS_FROM = 1960;
const YEARS_TO = 2035;
const LEET: Readonly<Record<string, string>> = { a: '@', e: '3', i: '1', o: '0', s: '$' };
const KEYBOARD_WALKS = [
  '1234567890',
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  '1qaz2wsx3edc4rfv5tgb',
  'zaq12wsxcde34rfvbgt5',
  'qazwsxedcrfvtgb',
  '1q2w3e4r5t6y7u8i9o0p',
  'q1w2e3r4t5y6u7i8o9p0',
  'qweasdzxc',
  'zxcasdqwe',
  '0987654321',
  'poiuytrewq',
  'mnbvcxz',
  'lkjhgfdsa',
  'abcdefghijklmnopqrstuvwxyz',
  'qwertzuiop',
  'azertyuiop',
  '147258369',
  '159753',
  '963852741',
  '741852963',
];

function leet(word: string): string {
  return [...word].map((c) => LEET[c] ?? c).join('');
}

/** The entries of the list file: trimmed, lower-cased, without comments and blank lines. */
export function parseCommonPasswordList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim().toLowerCase())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Every base entry, its usual variants, and generated sequences, walks and repetitions; all lower case. */
export function expandCommonPasswords(entries: readonly string[]): Set<string> {
  const out = new Set<string>();
  const years: string[] = [];
  for (let y = YEARS_FROM; y <= YEARS_TO; y++) years.push(String(y));
  const suffixes = [...SUFFIXES, ...years];

  for (const entry of entries) {
    out.add(entry);
    if (!/^[a-z]{3,}$/.test(entry)) continue;
    for (const suffix of suffixes) out.add(entry + suffix);
    for (const prefix of ['1', '123', '!']) out.add(prefix + entry);
    const forms = new Set([leet(entry), `${entry}s`, `my${entry}`, `ilove${entry}`]);
    if (entry.length <= 8) forms.add(entry + entry);
    forms.delete(entry);
    for (const form of forms) {
      out.add(form);
      for (const suffix of SHORT_SUFFIXES) out.add(form + suffix);
    }
  }

  const digits = '01234567890123456789';
  for (let start = 0; start < 10; start++) {
    for (let len = 4; len <= 12; len++) {
      const up = digits.slice(start, start + len);
      out.add(up);
      out.add([...up].reverse().join(''));
    }
  }
  for (const walk of KEYBOARD_WALKS) {
    for (let len = 4; len <= walk.length; len++) {
      const prefix = walk.slice(0, len);
      out.add(prefix);
      out.add(prefix + prefix);
      for (const suffix of ['1', '12', '123', '!', '1!']) out.add(prefix + suffix);
    }
  }
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789!@#$%*.';
  for (const c of chars) for (let len = 4; len <= 16; len++) out.add(c.repeat(len));
  for (const a of '0123456789abcdefghijklmnopqrstuvwxyz') {
    for (const b of '0123456789abcdefghijklmnopqrstuvwxyz') {
      if (a === b) continue;
      for (let n = 3; n <= 8; n++) {
        out.add((a + b).repeat(n));
        out.add((a + a + b + b).repeat(Math.ceil(n / 2)));
      }
    }
  }
  for (let n = 100; n <= 999; n++) {
    const s = String(n);
    out.add(s + s);
    out.add(s + s + s);
  }
  for (let n = 1000; n <= 9999; n++) out.add(String(n) + String(n));
  return out;
}

const LIST_FILE = new URL('./data/common-passwords.txt', import.meta.url);
let cached: Set<string> | undefined;

/** The expanded list, read once. */
export function commonPasswords(): ReadonlySet<string> {
  cached ??= expandCommonPasswords(parseCommonPasswordList(readFileSync(LIST_FILE, 'utf8')));
  return cached;
}

/** Case-insensitive (and Unicode-compatibility-insensitive) membership in the list. */
export function isCommonPassword(password: string): boolean {
  return commonPasswords().has(password.normalize('NFKC').toLowerCase());
}
