/**
 * A track's media for the studio: its presigned URLs (`track.urls`, cached until shortly before they expire), its
 * waveform peaks (fetched once per track, validated with the shared schema, announced to subscribers when they
 * arrive so the canvases redraw) and its encoded audio for the engine. One instance per signed-in identity.
 */
import { createContext, useContext, useSyncExternalStore } from 'react';
import { waveformPeaksSchema, type WaveformPeaks } from '@dawg/shared';
import type { TrackUrls } from './types';

type PeaksEntry =
  | { status: 'loading'; promise: Promise<WaveformPeaks | null> }
  | { status: 'ready'; peaks: WaveformPeaks }
  | { status: 'error'; message: string };

/** Presigned URLs are renewed this long before their stated expiry, so a fetch never starts with a dead one. */
const URL_SAFETY_MS = 60_000;
/** When the api gives no readable expiry. */
const URL_FALLBACK_TTL_MS = 10 * 60_000;

export class TrackMedia {
  private readonly fetchUrls: (trackId: string) => Promise<TrackUrls>;
  private readonly urlCache = new Map<string, { at: Promise<TrackUrls>; until: number }>();
  private readonly peaksCache = new Map<string, PeaksEntry>();
  private readonly listeners = new Set<() => void>();
  /** Bumped on every peaks arrival; React reads it to know when to redraw. */
  private revision = 0;

  constructor(fetchUrls: (trackId: string) => Promise<TrackUrls>) {
    this.fetchUrls = fetchUrls;
  }

  urls(trackId: string): Promise<TrackUrls> {
    const cached = this.urlCache.get(trackId);
    if (cached && cached.until > Date.now()) return cached.at;
    const at = this.fetchUrls(trackId);
    const entry = { at, until: Date.now() + URL_FALLBACK_TTL_MS };
    this.urlCache.set(trackId, entry);
    at.then(
      (urls) => {
        const expires = new Date(urls.expiresAt as string | Date).getTime();
        if (Number.isFinite(expires)) entry.until = expires - URL_SAFETY_MS;
      },
      () => this.urlCache.delete(trackId),
    );
    return at;
  }

  /** The peaks if they are here; otherwise starts fetching them (once) and returns undefined. */
  peaks(trackId: string, peaksUrl?: string | null): WaveformPeaks | undefined {
    const entry = this.peaksCache.get(trackId);
    if (entry?.status === 'ready') return entry.peaks;
    if (!entry) void this.loadPeaks(trackId, peaksUrl);
    return undefined;
  }

  peaksStatus(trackId: string): 'none' | PeaksEntry['status'] {
    return this.peaksCache.get(trackId)?.status ?? 'none';
  }

  loadPeaks(trackId: string, peaksUrl?: string | null): Promise<WaveformPeaks | null> {
    const entry = this.peaksCache.get(trackId);
    if (entry?.status === 'ready') return Promise.resolve(entry.peaks);
    if (entry?.status === 'loading') return entry.promise;
    const promise = (async (): Promise<WaveformPeaks | null> => {
      try {
        const url = peaksUrl ?? (await this.urls(trackId)).peaksUrl;
        if (!url) throw new Error('This track has no waveform yet.');
        const response = await fetch(url);
        if (!response.ok) throw new Error(`The waveform could not be loaded (HTTP ${response.status}).`);
        const parsed = waveformPeaksSchema.safeParse(await response.json());
        if (!parsed.success) throw new Error('The waveform file is not in the expected format.');
        this.peaksCache.set(trackId, { status: 'ready', peaks: parsed.data });
        return parsed.data;
      } catch (err) {
        this.peaksCache.set(trackId, { status: 'error', message: err instanceof Error ? err.message : String(err) });
        return null;
      } finally {
        this.revision++;
        for (const listener of this.listeners) listener();
      }
    })();
    this.peaksCache.set(trackId, { status: 'loading', promise });
    return promise;
  }

  /** The encoded audio (MP3) of a track, for the audio engine. */
  async audio(trackId: string, signal?: AbortSignal): Promise<ArrayBuffer> {
    const { mp3Url } = await this.urls(trackId);
    if (!mp3Url) throw new Error('This track has no audio yet.');
    const response = await fetch(mp3Url, signal ? { signal } : {});
    if (!response.ok) throw new Error(`The audio could not be loaded (HTTP ${response.status}).`);
    return response.arrayBuffer();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getRevision = (): number => this.revision;
}

const TrackMediaContext = createContext<TrackMedia | null>(null);
export const TrackMediaProvider = TrackMediaContext.Provider;

export function useTrackMedia(): TrackMedia {
  const media = useContext(TrackMediaContext);
  if (!media) throw new Error('useTrackMedia must be used inside <TrackMediaProvider>');
  return media;
}

/** Re-renders the caller whenever any track's peaks arrive. */
export function usePeaksRevision(media: TrackMedia): number {
  return useSyncExternalStore(media.subscribe, media.getRevision);
}
