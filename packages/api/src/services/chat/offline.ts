/**
 * The offline producer (no ANTHROPIC_API_KEY): understands plain studio commands and answers through the same tool
 * calls a model would make, then streams a short summary. It reads the conversation the way the runner sends it to
 * any provider: the user's last text is the command; the tool results after it tell how far the plan has come.
 *
 *   "make a 90 bpm lofi beat" → set_tempo + generate_music, then (in a project) get_generation_status (wait),
 *                               add_lane and place_clip, so the beat lands on a lane;
 *   "set tempo to 120", "set the key to A minor", "mute the drums", "solo the bass", "unmute drums",
 *   "add a lane called bass", "set the drums volume to -6 dB", "pan the keys left", "create a project called X",
 *   "list my tracks", "what's in this project", "remember that I like dusty drums", "forget dusty drums".
 */
import { GENRES, type Genre, LIMITS } from '@dawg/shared';
import type { ChatProvider, ContentBlock, ProviderMessage, ProviderRequest } from './provider';

export const OFFLINE_MODEL = 'dawg-offline-1';

export interface PlannedCall {
  name: string;
  input: Record<string, unknown>;
}

const GENRE_WORDS: [RegExp, Genre][] = [
  [/\blo-?fi\b/i, 'lofi' as Genre],
  [/\bhip[ -]?hop\b/i, 'hip-hop' as Genre],
  ...GENRES.filter((g) => g !== 'lofi' && g !== 'hip-hop').map((g): [RegExp, Genre] => [
    new RegExp(`\\b${g.replace(/-/g, '[ -]?')}\\b`, 'i'),
    g,
  ]),
];

const PITCH = /([A-Ga-g])\s*(#|♯|b|♭|sharp|flat)?/;

function clampBpm(n: number): number | undefined {
  return Number.isFinite(n) && n >= LIMITS.BPM_MIN && n <= LIMITS.BPM_MAX ? Math.round(n) : undefined;
}

function normaliseKey(letter: string, accidental: string | undefined, mode: string | undefined): string | null {
  const names: Record<string, string> = {
    'C#': 'C#',
    Db: 'C#',
    'D#': 'Eb',
    Eb: 'Eb',
    'F#': 'F#',
    Gb: 'F#',
    'G#': 'Ab',
    Ab: 'Ab',
    'A#': 'Bb',
    Bb: 'Bb',
    Cb: 'B',
    'B#': 'C',
    Fb: 'E',
    'E#': 'F',
  };
  const l = letter.toUpperCase();
  const acc = !accidental ? '' : /#|♯|sharp/i.test(accidental) ? '#' : 'b';
  const pitch = acc ? names[`${l}${acc}`] : l;
  if (!pitch) return null;
  const m = /min|^m$/i.test(mode ?? '') ? 'minor' : 'major';
  return `${pitch} ${m}`;
}

function cleanName(value: string): string {
  return value
    .trim()
    .replace(/^["'“”‘’]+|["'“”‘’.!?]+$/g, '')
    .replace(/\s+(lane|track|channel)$/i, '')
    .trim();
}

/** One command → the tool calls that carry it out first (later steps are planned from their results). */
export function parseCommand(text: string): PlannedCall[] {
  const t = text.trim();
  const calls: PlannedCall[] = [];
  let m: RegExpExecArray | null;

  if ((m = /^(?:please\s+)?remember\s+(?:that\s+)?(.+)$/i.exec(t))) {
    return [{ name: 'remember_preference', input: { content: m[1]!.trim().replace(/[.!]+$/, '') } }];
  }
  if ((m = /^(?:please\s+)?forget\s+(?:that\s+|about\s+)?(.+)$/i.exec(t))) {
    return [{ name: 'forget_preference', input: { text: m[1]!.trim().replace(/[.!]+$/, '') } }];
  }
  if ((m = /\b(?:create|make|start|new)\s+(?:a\s+)?(?:new\s+)?project\s+(?:called|named)\s+(.+)$/i.exec(t))) {
    return [{ name: 'create_project', input: { name: cleanName(m[1]!) } }];
  }
  const makes =
    /\b(make|generate|create|compose|produce|write)\b/i.test(t) &&
    /\b(beat|song|track|loop|tune|music|melody|instrumental|groove|jam)\b/i.test(t);
  const bpmMatch =
    /(\d{2,3})\s*(?:bpm|beats per minute)\b/i.exec(t) ?? /\btempo\s+(?:to\s+|of\s+|at\s+)?(\d{2,3})\b/i.exec(t);
  const bpm = bpmMatch ? clampBpm(Number(bpmMatch[1])) : undefined;

  if (makes) {
    const genre = GENRE_WORDS.find(([re]) => re.test(t))?.[1];
    const seconds = /(\d{1,3})\s*(?:s|sec|secs|second|seconds)\b/i.exec(t);
    const minutes = /(\d(?:\.\d)?)\s*(?:min|minute|minutes)\b/i.exec(t);
    const duration = seconds ? Number(seconds[1]) : minutes ? Math.round(Number(minutes[1]) * 60) : undefined;
    const prompt = t.replace(/^(please\s+)?(can you\s+)?(help me\s+)?/i, '').slice(0, LIMITS.PROMPT_MAX_CHARS);
    if (bpm) calls.push({ name: 'set_tempo', input: { bpm } });
    calls.push({
      name: 'generate_music',
      input: {
        prompt,
        ...(genre ? { genre } : {}),
        ...(bpm ? { bpm } : {}),
        ...(duration && duration >= LIMITS.DURATION_MIN_SEC && duration <= LIMITS.DURATION_MAX_SEC ? { duration } : {}),
        instrumental: !/\b(vocals?|sing|lyrics)\b/i.test(t) || /\bno vocals\b/i.test(t),
      },
    });
    return calls;
  }
  if (bpm && /\b(tempo|bpm)\b/i.test(t)) return [{ name: 'set_tempo', input: { bpm } }];
  if ((m = new RegExp(`\\bkey\\s+(?:to\\s+|of\\s+)?${PITCH.source}\\s*(major|minor|maj|min|m)?\\b`, 'i').exec(t))) {
    const key = normaliseKey(m[1]!, m[2], m[3]);
    if (key) return [{ name: 'set_key', input: { key } }];
  }
  if ((m = /\badd\s+(?:a\s+)?(?:new\s+)?(?:lane|track)\s+(?:called|named|for)\s+(.+)$/i.exec(t))) {
    return [{ name: 'add_lane', input: { name: cleanName(m[1]!) } }];
  }
  if ((m = /\b(un)?mute\s+(?:the\s+)?(.+)$/i.exec(t))) {
    return [{ name: 'mute_lane', input: { lane: cleanName(m[2]!), mute: !m[1] } }];
  }
  if ((m = /\b(un-?)?solo\s+(?:the\s+)?(.+)$/i.exec(t))) {
    return [{ name: 'solo_lane', input: { lane: cleanName(m[2]!), solo: !m[1] } }];
  }
  if ((m = /\b(?:set\s+)?(?:the\s+)?(.+?)\s+(?:volume|gain|level)\s+to\s+(-?\d+(?:\.\d+)?)\s*db\b/i.exec(t))) {
    return [{ name: 'set_lane_gain', input: { lane: cleanName(m[1]!), gainDb: Number(m[2]) } }];
  }
  if ((m = /\bpan\s+(?:the\s+)?(.+?)\s+(?:to\s+the\s+|to\s+)?(hard\s+)?(left|right|center|centre|middle)\b/i.exec(t))) {
    const side = m[3]!.toLowerCase();
    const amount = m[2] ? 1 : 0.5;
    const pan = side === 'left' ? -amount : side === 'right' ? amount : 0;
    return [{ name: 'set_lane_pan', input: { lane: cleanName(m[1]!), pan } }];
  }
  if (/\b(list|show|what are)\b.*\b(tracks|songs|library)\b/i.test(t)) return [{ name: 'list_tracks', input: {} }];
  if (/\b(what'?s|what is|show|describe)\b.*\b(project|lanes|arrangement)\b/i.test(t)) {
    return [{ name: 'get_project', input: {} }];
  }
  return calls;
}

interface CallResult {
  name: string;
  input: Record<string, unknown>;
  ok: boolean;
  result: Record<string, unknown>;
}

/** The user's last command and the tool calls (with their results) made for it so far. */
function turnSoFar(messages: ProviderMessage[]): { command: string; results: CallResult[] } {
  let start = messages.length - 1;
  while (start >= 0) {
    const msg = messages[start]!;
    if (msg.role === 'user' && msg.content.some((b) => b.type === 'text')) break;
    start--;
  }
  const command =
    start >= 0
      ? messages[start]!.content.filter((b) => b.type === 'text')
          .map((b) => b.text)
          .join(' ')
      : '';
  const calls = new Map<string, { name: string; input: Record<string, unknown> }>();
  const results: CallResult[] = [];
  for (const msg of messages.slice(start + 1)) {
    for (const block of msg.content) {
      if (block.type === 'tool_use')
        calls.set(block.id, { name: block.name, input: (block.input ?? {}) as Record<string, unknown> });
      if (block.type === 'tool_result') {
        const call = calls.get(block.tool_use_id);
        if (!call) continue;
        let result: Record<string, unknown>;
        try {
          result = JSON.parse(block.content) as Record<string, unknown>;
        } catch {
          result = { message: block.content };
        }
        results.push({ ...call, ok: !block.is_error, result });
      }
    }
  }
  return { command, results };
}

function laneNameFor(prompt: string, genre: unknown): string {
  const base = typeof genre === 'string' ? genre.replace(/-/g, ' ') : 'AI';
  const kind = /\bbeat\b/i.test(prompt) ? 'beat' : /\bloop\b/i.test(prompt) ? 'loop' : 'track';
  const name = `${base.charAt(0).toUpperCase()}${base.slice(1)} ${kind}`;
  return name.slice(0, LIMITS.LANE_NAME_MAX_CHARS);
}

/** The next calls after those already made, or null when the plan is complete. */
export function nextCalls(results: CallResult[], inProject: boolean): PlannedCall[] | null {
  const last = (name: string) => [...results].reverse().find((r) => r.name === name);
  const generated = last('generate_music');
  if (!generated?.ok || !inProject) return null;
  const generationId = generated.result.generationId as string;
  const status = last('get_generation_status');
  if (!status) return [{ name: 'get_generation_status', input: { generationId, wait: true } }];
  if (!status.ok || status.result.status !== 'succeeded') return null;
  const lane = results.slice(results.indexOf(status)).find((r) => r.name === 'add_lane');
  if (!lane) {
    return [
      {
        name: 'add_lane',
        input: { name: laneNameFor(String(generated.input.prompt ?? ''), generated.input.genre) },
      },
    ];
  }
  if (!lane.ok) return null;
  if (!last('place_clip')) {
    return [{ name: 'place_clip', input: { lane: lane.result.laneId as string, generationId, startSec: 0 } }];
  }
  return null;
}

const HELP =
  'I can make music and work the studio for you. Try “make a 90 bpm lofi beat”, “set tempo to 120”, ' +
  '“mute the drums”, “add a lane called bass” or “remember that I like dusty drums”.';

/** What was done, in a few short lines of markdown. */
export function summarize(command: string, results: CallResult[]): string {
  if (results.length === 0) return HELP;
  const lines: string[] = [];
  for (const r of results) {
    const v = r.result;
    if (!r.ok) {
      lines.push(`- Could not ${r.name.replace(/_/g, ' ')}: ${String(v.message ?? v.error ?? 'it failed')}`);
      continue;
    }
    switch (r.name) {
      case 'generate_music':
        lines.push(
          `- Started **${String(r.input.prompt)}** (about ${String(v.estimatedTimeSec)} s, estimated cost ` +
            `${String(v.estimatedCost)}).`,
        );
        break;
      case 'get_generation_status':
        lines.push(`- The generation ${v.status === 'succeeded' ? 'is ready' : `is ${String(v.status)}`}.`);
        break;
      case 'set_tempo':
        lines.push(`- Tempo set to **${String(v.bpm)} BPM**.`);
        break;
      case 'set_key':
        lines.push(v.key ? `- Key set to **${String(v.key)}**.` : '- Key cleared.');
        break;
      case 'add_lane':
        lines.push(`- Added the lane **${String(v.name)}**.`);
        break;
      case 'place_clip':
        lines.push(`- Placed it on **${String(v.lane)}** at ${String(v.startSec)} s.`);
        break;
      case 'mute_lane':
        lines.push(`- ${v.mute ? 'Muted' : 'Unmuted'} **${String(v.lane)}**.`);
        break;
      case 'solo_lane':
        lines.push(`- ${v.solo ? 'Soloed' : 'Un-soloed'} **${String(v.lane)}**.`);
        break;
      case 'set_lane_gain':
        lines.push(`- **${String(v.lane)}** is now at ${String(v.gainDb)} dB.`);
        break;
      case 'set_lane_pan':
        lines.push(`- **${String(v.lane)}** panned to ${String(v.pan)}.`);
        break;
      case 'create_project':
        lines.push(`- Created the project **${String(v.name)}**.`);
        break;
      case 'remember_preference':
        lines.push(`- I'll remember: ${String(v.content)}`);
        break;
      case 'forget_preference': {
        const n = Array.isArray(v.forgotten) ? v.forgotten.length : 0;
        lines.push(n ? `- Forgot ${n} thing${n === 1 ? '' : 's'}.` : '- There was nothing like that to forget.');
        break;
      }
      case 'list_tracks': {
        const tracks = Array.isArray(v.tracks) ? (v.tracks as { title: string }[]) : [];
        lines.push(tracks.length ? `- Your tracks: ${tracks.map((x) => x.title).join(', ')}` : '- No tracks yet.');
        break;
      }
      case 'get_project': {
        const lanes = Array.isArray(v.lanes) ? (v.lanes as { name: string }[]) : [];
        lines.push(
          `- **${String(v.name)}**: ${String(v.bpm)} BPM${v.key ? `, ${String(v.key)}` : ''}; lanes: ` +
            `${lanes.map((l) => l.name).join(', ') || 'none'}.`,
        );
        break;
      }
      default:
        lines.push(`- Done: ${r.name.replace(/_/g, ' ')}.`);
    }
  }
  void command;
  return lines.join('\n');
}

let callSeq = 0;

function words(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

function tokensOf(value: unknown): number {
  return Math.ceil(JSON.stringify(value).length / 4);
}

export function createOfflineProvider(): ChatProvider {
  return {
    provider: 'local',
    model: OFFLINE_MODEL,
    async stream(request: ProviderRequest, { signal, onText }) {
      const inputTokens = tokensOf([request.system, request.messages]);
      const { command, results } = turnSoFar(request.messages);
      const available = new Set(request.tools.map((t) => t.name));
      const inProject = /^Current project: /m.test(request.system);
      const planned = results.length === 0 ? parseCommand(command) : (nextCalls(results, inProject) ?? []);
      const calls = planned.filter((c) => available.has(c.name));
      if (calls.length > 0) {
        const toolCalls = calls.map((c) => ({ id: `offline_${Date.now().toString(36)}_${++callSeq}`, ...c }));
        return {
          text: '',
          toolCalls,
          stopReason: 'tool_use',
          usage: { inputTokens, outputTokens: tokensOf(toolCalls) },
        };
      }
      const off = parseCommand(command).filter((c) => !available.has(c.name));
      const refused = results.length === 0 && off.length > 0;
      let text = refused ? 'Creating from chat is turned off on this server.' : summarize(command, results);
      if (!refused && off.length > 0) {
        text += `\n- Creating from chat is turned off on this server: I did not ${off.map((c) => c.name.replace(/_/g, ' ')).join(' or ')}.`;
      }
      for (const piece of words(text)) {
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
        onText(piece);
        // Yield between pieces so a stop or a reader is served while the answer streams.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return { text, toolCalls: [], stopReason: 'end_turn', usage: { inputTokens, outputTokens: tokensOf(text) } };
    },
  };
}

export type { ContentBlock };
