/**
 * Lyrics and a title for custom-mode requests that ask for them (`writeLyrics`), written before the music (stage
 * `writing_lyrics`). With OPENAI_API_KEY a chat model writes them (OPENAI_LYRICS_MODEL, OPENAI_BASE_URL); the token
 * usage is returned so the job charges it to the ledger with the music, in the same transaction. Without a key an
 * offline writer makes deterministic lyrics from the style and the seed, at no cost.
 */
import OpenAI from 'openai';
import { UnrecoverableError } from 'bullmq';
import type { WorkerEnv } from '@dawg/shared';

export interface LyricsRequest {
  style: string;
  title?: string;
  prompt: string;
  seed: number;
  durationSec: number;
}

export interface WrittenLyrics {
  title: string;
  lyrics: string;
  /** What the model used; null for the offline writer (nothing to charge). */
  usage: { model: string; inputTokens: number; cachedInputTokens: number; outputTokens: number } | null;
}

const TITLE_MAX = 100;
const LYRICS_MAX = 3000;

function sectionsFor(durationSec: number): string[] {
  if (durationSec <= 45) return ['Verse', 'Chorus'];
  if (durationSec <= 120) return ['Verse 1', 'Chorus', 'Verse 2', 'Chorus'];
  return ['Intro', 'Verse 1', 'Chorus', 'Verse 2', 'Chorus', 'Bridge', 'Chorus', 'Outro'];
}

/** xorshift32 over the seed: the same request always gets the same words. */
function picker(seed: number) {
  let x = seed >>> 0 || 0x2545f491;
  return <T>(items: readonly T[]): T => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return items[x % items.length]!;
  };
}

const IMAGES = ['city lights', 'midnight rain', 'open road', 'ocean air', 'neon glow', 'summer haze', 'silver moon'];
const FEELINGS = ['we come alive', 'the night is ours', 'we never fade', 'our hearts collide', 'we rise again'];
const MOTIONS = ['dancing slow', 'running free', 'holding on', 'falling fast', 'drifting home'];

/** The offline writer: short, singable, deterministic lines shaped by the song's length. */
export function writeLyricsOffline(req: LyricsRequest): WrittenLyrics {
  const pick = picker(req.seed);
  const hook = pick(FEELINGS);
  const image = pick(IMAGES);
  const title = req.title ?? hook.replace(/(^|\s)\S/g, (c) => c.toUpperCase()).slice(0, TITLE_MAX) ?? 'Untitled';
  const parts = sectionsFor(req.durationSec).map((name) => {
    if (name.startsWith('Chorus')) return `[${name}]\nOh, ${hook}\nUnder the ${image}\nOh, ${hook}\nTonight, tonight`;
    const lines = [
      `${pick(MOTIONS)} through the ${pick(IMAGES)}`,
      `every word a little ${pick(['brighter', 'louder', 'closer', 'stronger'])}`,
      `${pick(MOTIONS)}, I hear the ${req.style.split(/[,.]/)[0]!.trim().toLowerCase() || 'music'}`,
      `and ${hook}`,
    ];
    return `[${name}]\n${lines.map((l) => l.charAt(0).toUpperCase() + l.slice(1)).join('\n')}`;
  });
  return { title, lyrics: parts.join('\n\n').slice(0, LYRICS_MAX), usage: null };
}

const SYSTEM = [
  'You write song lyrics for a music generator.',
  'Answer with a JSON object {"title": string, "lyrics": string}.',
  'Lyrics use section tags on their own lines such as [Verse], [Chorus], [Bridge], fit the length asked for,',
  'contain no commentary, and never quote existing songs.',
].join(' ');

function isRefusal(err: unknown): boolean {
  const status = (err as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500 && ![408, 409, 429].includes(status);
}

export async function writeLyricsWithOpenAI(
  req: LyricsRequest,
  opts: { apiKey: string; baseURL?: string; model: string; signal: AbortSignal },
): Promise<WrittenLyrics> {
  const client = new OpenAI({
    apiKey: opts.apiKey,
    ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
    maxRetries: 2,
    timeout: 60_000,
  });
  const ask =
    `Style: ${req.style}\n` +
    (req.title ? `Title: ${req.title}\n` : 'Also invent a short title.\n') +
    `Length: about ${Math.round(req.durationSec)} seconds of music (${sectionsFor(req.durationSec).join(', ')}).`;
  let completion;
  try {
    completion = await client.chat.completions.create(
      {
        model: opts.model,
        messages: [
          { role: 'system', content: SYSTEM },
          { role: 'user', content: ask },
        ],
        response_format: { type: 'json_object' },
        temperature: 0.9,
      },
      { signal: opts.signal },
    );
  } catch (err) {
    if (opts.signal.aborted) throw opts.signal.reason as Error;
    if (isRefusal(err)) throw new UnrecoverableError(`OpenAI refused to write the lyrics: ${(err as Error).message}`);
    throw new Error(`writing the lyrics failed: ${(err as Error).message}`, { cause: err });
  }
  const content = completion.choices[0]?.message?.content ?? '';
  let title = req.title;
  let lyrics = content;
  try {
    const parsed = JSON.parse(content) as { title?: unknown; lyrics?: unknown };
    if (typeof parsed.lyrics === 'string') lyrics = parsed.lyrics;
    if (!title && typeof parsed.title === 'string') title = parsed.title;
  } catch {
    // A model that ignored the JSON instruction still wrote lyrics: keep the text.
  }
  lyrics = lyrics.trim().slice(0, LYRICS_MAX);
  if (!lyrics) throw new Error('the lyrics writer answered with nothing');
  const usage = completion.usage;
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    title: (title?.trim() || 'Untitled').slice(0, TITLE_MAX),
    lyrics,
    usage: {
      model: completion.model || opts.model,
      inputTokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
      cachedInputTokens: cached,
      outputTokens: usage?.completion_tokens ?? 0,
    },
  };
}

export async function writeLyrics(
  req: LyricsRequest,
  env: Pick<WorkerEnv, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'OPENAI_LYRICS_MODEL'>,
  signal: AbortSignal,
): Promise<WrittenLyrics> {
  if (!env.OPENAI_API_KEY) return writeLyricsOffline(req);
  return writeLyricsWithOpenAI(req, {
    apiKey: env.OPENAI_API_KEY,
    model: env.OPENAI_LYRICS_MODEL,
    signal,
    ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
  });
}
