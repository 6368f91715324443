/**
 * The realtime voice socket (`/voice`, seed post-deploy 3.3). The browser sends JSON control messages and binary
 * frames of microphone audio (PCM16 little-endian, mono, 24 kHz); the server answers with JSON events and binary
 * frames of the model's speech in the same format.
 *
 * Client → server: `voice-connect` (first; answered by `voice-connected`), `commit` (push-to-talk released: answer
 * what was said), `mode` (switch push-to-talk / hands-free), `interrupt` (stop the current answer), `ping`.
 * Server → client: `voice-connected`, `transcript` (user or assistant, partial or final), `speech_started`,
 * `speech_stopped`, `response_started`, `response_done`, `tool_call`, `tool_result`, `usage`, `pong`, and `error`
 * (`fatal: true` is followed by the socket closing with one of VOICE_CLOSE_CODES).
 */
import { z } from 'zod';

export const VOICE_AUDIO = {
  /** Sample rate of both directions (the Realtime API's `audio/pcm`). */
  SAMPLE_RATE: 24_000,
  BYTES_PER_SAMPLE: 2,
  /** Largest binary frame accepted from the browser (about 1 s of audio). */
  MAX_FRAME_BYTES: 48_000,
} as const;

export const VOICE_NAMES = [
  'alloy',
  'ash',
  'ballad',
  'coral',
  'echo',
  'sage',
  'shimmer',
  'verse',
  'marin',
  'cedar',
] as const;
export const voiceNameSchema = z.enum(VOICE_NAMES);
export type VoiceName = z.infer<typeof voiceNameSchema>;

export const VOICE_MODES = ['push-to-talk', 'hands-free'] as const;
export const voiceModeSchema = z.enum(VOICE_MODES);
export type VoiceMode = z.infer<typeof voiceModeSchema>;

/** Close codes of the voice socket after a fatal `error` event. */
export const VOICE_CLOSE_CODES = {
  UNAUTHORIZED: 4401,
  PAYMENT_REQUIRED: 4402,
  TOO_MANY_SESSIONS: 4429,
  UPSTREAM_FAILED: 4502,
  NOT_CONFIGURED: 4503,
  BAD_REQUEST: 4400,
  TIMEOUT: 4408,
} as const;

export const voiceClientMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('voice-connect'),
    voice: voiceNameSchema.default('alloy'),
    mode: voiceModeSchema.default('push-to-talk'),
    projectId: z.uuid().nullable().optional(),
    conversationId: z.uuid().nullable().optional(),
  }),
  z.object({ type: z.literal('commit') }),
  z.object({ type: z.literal('mode'), mode: voiceModeSchema }),
  z.object({ type: z.literal('interrupt') }),
  z.object({ type: z.literal('ping') }),
]);
export type VoiceClientMessage = z.infer<typeof voiceClientMessageSchema>;
export type VoiceConnectMessage = Extract<VoiceClientMessage, { type: 'voice-connect' }>;

export type VoiceServerEvent =
  | {
      type: 'voice-connected';
      sessionId: string;
      conversationId: string;
      voice: VoiceName;
      mode: VoiceMode;
      model: string;
      sampleRate: number;
    }
  | { type: 'transcript'; role: 'user' | 'assistant'; text: string; final: boolean; itemId: string }
  | { type: 'speech_started' }
  | { type: 'speech_stopped' }
  | { type: 'response_started'; responseId: string }
  | { type: 'response_done'; responseId: string; status: string }
  | { type: 'tool_call'; toolCallId: string; name: string; input: unknown }
  | {
      type: 'tool_result';
      toolCallId: string;
      name: string;
      ok: boolean;
      result?: Record<string, unknown>;
      error?: { code: string; message: string };
    }
  | { type: 'usage'; costMicro: number; totalCostMicro: number }
  | { type: 'mode'; mode: VoiceMode }
  | { type: 'pong' }
  | { type: 'error'; code: string; error: string; fatal: boolean };

/** `GET /api/voice/health` (seed deployment 4.2). */
export interface VoiceHealth {
  status: 'healthy';
  service: 'realtime-voice';
  openai_configured: boolean;
  functions_cached: number;
}
