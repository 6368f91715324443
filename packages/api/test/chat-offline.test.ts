/**
 * The offline producer's command parsing and plan, the tool registry as the models see it, and the history sent to
 * a provider (tool calls always followed by their results).
 */
import type { MessageRow } from '@dawg/db';
import { describe, expect, it } from 'vitest';
import { nextCalls, parseCommand, summarize } from '../src/services/chat/offline';
import { toProviderMessages } from '../src/services/chat/service';
import { availableTools, TOOLS, toolRegistry, toolRegistrySize } from '../src/services/tools';

describe('parseCommand', () => {
  const cases: [string, { name: string; input: Record<string, unknown> }[]][] = [
    [
      'make a 90 bpm lofi beat',
      [
        { name: 'set_tempo', input: { bpm: 90 } },
        {
          name: 'generate_music',
          input: { prompt: 'make a 90 bpm lofi beat', genre: 'lofi', bpm: 90, instrumental: true },
        },
      ],
    ],
    ['set tempo to 120', [{ name: 'set_tempo', input: { bpm: 120 } }]],
    ['mute the drums', [{ name: 'mute_lane', input: { lane: 'drums', mute: true } }]],
    ['unmute the drums lane', [{ name: 'mute_lane', input: { lane: 'drums', mute: false } }]],
    ['solo the bass', [{ name: 'solo_lane', input: { lane: 'bass', solo: true } }]],
    ['add a lane called bass', [{ name: 'add_lane', input: { name: 'bass' } }]],
    ['set the key to F# minor', [{ name: 'set_key', input: { key: 'F# minor' } }]],
    ['set the drums volume to -6 dB', [{ name: 'set_lane_gain', input: { lane: 'drums', gainDb: -6 } }]],
    ['pan the keys hard left', [{ name: 'set_lane_pan', input: { lane: 'keys', pan: -1 } }]],
    ['create a project called Night Drive', [{ name: 'create_project', input: { name: 'Night Drive' } }]],
    ['remember that I like dusty drums', [{ name: 'remember_preference', input: { content: 'I like dusty drums' } }]],
    ['forget dusty drums', [{ name: 'forget_preference', input: { text: 'dusty drums' } }]],
    ['hello there', []],
  ];
  for (const [text, expected] of cases) {
    it(text, () => {
      expect(parseCommand(text)).toEqual(expected);
    });
  }

  it('takes a genre, a length and vocals from the words', () => {
    const [call] = parseCommand('compose a 45 second hip hop song with vocals');
    expect(call).toMatchObject({
      name: 'generate_music',
      input: { genre: 'hip-hop', duration: 45, instrumental: false },
    });
  });
});

describe('the offline plan for a beat in a project', () => {
  const gen = {
    name: 'generate_music',
    input: { prompt: 'lofi beat', genre: 'lofi' },
    ok: true,
    result: { generationId: 'g1' },
  };
  it('waits for the generation, adds a lane, places the track, then stops', () => {
    expect(nextCalls([gen], true)).toEqual([
      { name: 'get_generation_status', input: { generationId: 'g1', wait: true } },
    ]);
    const status = { name: 'get_generation_status', input: {}, ok: true, result: { status: 'succeeded' } };
    expect(nextCalls([gen, status], true)).toEqual([{ name: 'add_lane', input: { name: 'Lofi beat' } }]);
    const lane = { name: 'add_lane', input: {}, ok: true, result: { laneId: 'l1' } };
    expect(nextCalls([gen, status, lane], true)).toEqual([
      { name: 'place_clip', input: { lane: 'l1', generationId: 'g1', startSec: 0 } },
    ]);
    const placed = { name: 'place_clip', input: {}, ok: true, result: { lane: 'Lofi beat', startSec: 0 } };
    expect(nextCalls([gen, status, lane, placed], true)).toBeNull();
    expect(summarize('', [gen, status, lane, placed])).toContain('Placed it on **Lofi beat**');
  });
  it('stops after starting when there is no project, or when the generation failed', () => {
    expect(nextCalls([gen], false)).toBeNull();
    const failed = { name: 'get_generation_status', input: {}, ok: true, result: { status: 'failed' } };
    expect(nextCalls([gen, failed], true)).toBeNull();
  });
});

describe('the tool registry', () => {
  it('has every tool of the producer, each with an object JSON Schema', () => {
    expect(toolRegistry.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'generate_music',
        'extend_track',
        'get_generation_status',
        'list_tracks',
        'create_project',
        'set_tempo',
        'set_key',
        'add_lane',
        'place_clip',
        'set_lane_gain',
        'set_lane_pan',
        'mute_lane',
        'solo_lane',
        'remember_preference',
        'forget_preference',
      ]),
    );
    expect(toolRegistrySize()).toBe(TOOLS.length);
    expect(new Set(toolRegistry.map((t) => t.name)).size).toBe(toolRegistry.length);
    for (const tool of toolRegistry) {
      expect(tool.name).toMatch(/^[a-z][a-z0-9_]{0,63}$/);
      expect(tool.parameters).toMatchObject({ type: 'object' });
      expect(tool.parameters).not.toHaveProperty('$schema');
      expect(tool.description.length).toBeGreaterThan(10);
    }
    expect(toolRegistry.find((t) => t.name === 'set_tempo')!.parameters).toMatchObject({ required: ['bpm'] });
  });

  it('paid tools are the creating ones, and FEATURE_CHAT_TO_CREATE=false leaves only tools that change nothing new', () => {
    expect(TOOLS.filter((t) => t.paid).map((t) => t.name)).toEqual(['generate_music', 'extend_track']);
    const names = availableTools({ FEATURE_CHAT_TO_CREATE: false }).map((t) => t.name);
    expect(names).not.toContain('generate_music');
    expect(names).not.toContain('add_lane');
    expect(names).toContain('set_tempo');
    expect(availableTools({ FEATURE_CHAT_TO_CREATE: true })).toHaveLength(toolRegistry.length);
  });
});

describe('toProviderMessages', () => {
  let seq = 0;
  const row = (m: Partial<MessageRow>): MessageRow =>
    ({
      id: `m${++seq}`,
      conversation_id: 'c',
      seq,
      turn_id: 't',
      role: 'user',
      content: '',
      tool_calls: null,
      tool_results: null,
      provider: null,
      model: null,
      input_tokens: null,
      output_tokens: null,
      cost_micro: null,
      created_at: new Date(),
      ...m,
    }) as MessageRow;

  it('answers a tool call left without a result, merges same-role messages and starts with the user', () => {
    const messages = toProviderMessages([
      row({ role: 'tool', tool_results: [] }),
      row({ role: 'assistant', content: 'orphan' }),
      row({ role: 'user', content: 'mute the drums' }),
      row({
        role: 'assistant',
        content: 'On it',
        tool_calls: [{ id: 'a', name: 'mute_lane', input: { lane: 'drums' } }],
      }),
      row({ role: 'user', content: 'and the bass' }),
    ]);
    expect(messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'mute the drums' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'On it' },
          { type: 'tool_use', id: 'a', name: 'mute_lane', input: { lane: 'drums' } },
        ],
      },
      {
        role: 'user',
        content: [
          expect.objectContaining({ type: 'tool_result', tool_use_id: 'a', is_error: true }),
          { type: 'text', text: 'and the bass' },
        ],
      },
    ]);
  });
});
