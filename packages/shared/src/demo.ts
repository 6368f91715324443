/**
 * Demo mode (seed 1.4, VITE_DEMO_MODE): a visitor tries the studio without signing up. Each visitor gets an ephemeral
 * account of their own with a sample project; "keep my work" turns it into a normal account (the same fields and
 * checks as sign-up), and an account that is not kept is removed with its work when it expires.
 */
import { z } from 'zod';
import { publicUserSchema, registerInputSchema } from './auth';

export const demoStartOutputSchema = z.object({
  user: publicUserSchema,
  /** The session token (the cookie is set too), as sign-up returns it. */
  token: z.string(),
  /** The sample project, ready to play and mix. */
  projectId: z.uuid(),
  /** When the account and its work are removed unless kept (ISO 8601). */
  expiresAt: z.string(),
});
export type DemoStartOutput = z.infer<typeof demoStartOutputSchema>;

/** "Keep my work": the sign-up fields. */
export const keepDemoWorkInputSchema = registerInputSchema;
export type KeepDemoWorkInput = z.infer<typeof keepDemoWorkInputSchema>;

export const demoStatusSchema = z.object({
  /** Whether this server runs demo mode. */
  enabled: z.boolean(),
  /** Local-synth generations demo accounts may make per address per day. */
  generationsPerDay: z.number().int(),
  /** Hours a demo account lives. */
  accountHours: z.number(),
});
export type DemoStatus = z.infer<typeof demoStatusSchema>;

/** The sample project every demo account starts with: two short local-synth takes on two lanes. */
export const DEMO_SAMPLE = {
  projectName: 'Demo Project',
  bpm: 96,
  key: 'A minor',
  durationSec: 12,
  lanes: [
    { name: 'Beat', prompt: 'lofi hip hop beat with drums and bass, 96 bpm, mellow' },
    { name: 'Keys', prompt: 'dreamy ambient piano chords, 96 bpm, calm' },
  ],
} as const;
