/**
 * The local provider fakes speak their wire protocols well enough for the real clients: the `openai` SDK streams
 * (with a usage chunk) and reads plain completions from the OpenAI fake, retries its injected 500; the Suno fake
 * walks a task through its statuses one poll at a time, counts requests, fails on demand and refuses a wrong key.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, startFakeSuno, type FakeOpenAI, type FakeSuno } from '@dawg/testing';

let openai: FakeOpenAI;
let suno: FakeSuno;

beforeAll(async () => {
  [openai, suno] = await Promise.all([startFakeOpenAI(), startFakeSuno({ clips: 2, clipSeconds: 1 })]);
});

afterAll(async () => {
  await Promise.all([openai.close(), suno.close()]);
});

describe('OpenAI fake', () => {
  it('answers a plain completion with usage, and a stream with chunks, [DONE] and a usage chunk', async () => {
    openai.configure({ reply: 'hello from the fake', usage: { prompt_tokens: 12, completion_tokens: 5 } });
    const client = new OpenAI({ apiKey: openai.apiKey, baseURL: openai.baseURL, maxRetries: 0 });
    const plain = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(plain.choices[0]?.message.content).toBe('hello from the fake');
    expect(plain.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 });

    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('hello from the fake');
    expect(chunks).toBeGreaterThan(2);
    expect(usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 5 });
  });

  it('fails the next requests on demand (the SDK retries) and refuses a wrong key', async () => {
    openai.configure({ failNext: 1, failStatus: 500 });
    const before = openai.requests.length;
    const client = new OpenAI({ apiKey: openai.apiKey, baseURL: openai.baseURL, maxRetries: 1 });
    const answer = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(answer.choices).toHaveLength(1);
    expect(openai.requests.length - before).toBe(2);

    const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: openai.baseURL, maxRetries: 0 });
    await expect(wrong.chat.completions.create({ model: 'gpt-4o', messages: [] })).rejects.toMatchObject({
      status: 401,
    });
  });
});

describe('Suno fake', () => {
  const headers = () => ({ authorization: `Bearer ${suno.apiKey}`, 'content-type': 'application/json' });

  it('walks a task one status per poll, with stream URLs at FIRST_SUCCESS and files at SUCCESS', async () => {
    suno.configure({ statuses: ['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS', 'SUCCESS'] });
    const submitted = await fetch(`${suno.url}/api/v1/generate`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ customMode: false, instrumental: true, model: 'V4_5', prompt: 'x' }),
    }).then((r) => r.json() as Promise<{ code: number; data: { taskId: string } }>);
    expect(submitted.code).toBe(200);
    const poll = () =>
      fetch(`${suno.url}/api/v1/generate/record-info?taskId=${submitted.data.taskId}`, { headers: headers() }).then(
        (r) =>
          r.json() as Promise<{
            data: { status: string; response: { sunoData: { streamAudioUrl: string; audioUrl: string }[] } };
          }>,
      );
    const seen = [];
    for (let i = 0; i < 5; i++) seen.push((await poll()).data);
    expect(seen.map((d) => d.status)).toEqual(['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS', 'SUCCESS', 'SUCCESS']);
    expect(seen[2]!.response.sunoData).toHaveLength(2);
    expect(seen[2]!.response.sunoData[0]!.audioUrl).toBe('');
    const file = await fetch(seen[3]!.response.sunoData[1]!.audioUrl);
    expect(file.headers.get('content-type')).toBe('audio/wav');
    expect((await file.arrayBuffer()).byteLength).toBe(44 + 44_100 * 4);
    expect(suno.counts.poll).toBeGreaterThanOrEqual(5);
  });

  it('answers 500 for the next requests asked for, then recovers, and 401 without the key', async () => {
    suno.configure({ failNext: { submit: 1 } });
    const body = JSON.stringify({ customMode: false, instrumental: true, model: 'V4_5', prompt: 'x' });
    const first = await fetch(`${suno.url}/api/v1/generate`, { method: 'POST', headers: headers(), body });
    const second = await fetch(`${suno.url}/api/v1/generate`, { method: 'POST', headers: headers(), body });
    expect([first.status, second.status]).toEqual([500, 200]);
    const anonymous = await fetch(`${suno.url}/api/v1/generate`, { method: 'POST', body });
    expect(anonymous.status).toBe(401);
  });
});
