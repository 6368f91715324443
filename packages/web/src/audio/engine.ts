/**
 * The studio's audio engine on the Web Audio API. Per lane: GainNode (fader × mute/solo) → StereoPannerNode
 * (equal-power pan) → AnalyserNode (the lane's meter) → master GainNode → master AnalyserNode → destination.
 * Decoded AudioBuffers are cached per track id. Clips are scheduled ahead of the audio clock (a short look-ahead
 * timer, as in Chris Wilson's "A Tale of Two Clocks"), each an AudioBufferSourceNode started with (when, offset,
 * duration) through its own GainNode carrying the fade automation, so timing comes from the audio clock, not from
 * timers. The position is derived from that same clock, and a loop region wraps it.
 */
import {
  clampPan,
  effectiveLoop,
  fadeEnvelope,
  laneGains,
  planStarts,
  positionAfter,
  windowPieces,
  type ClipTiming,
  type LaneMix,
  type LoopRegion,
  type PlannedStart,
} from './mix';

export type TransportState = 'stopped' | 'playing' | 'paused';

export interface EngineSnapshot {
  state: TransportState;
  /** Audio of the arrangement is being fetched and decoded before playback can start. */
  loading: boolean;
}

export interface AudioEngineOptions {
  /** The encoded audio (MP3) of a track; called once per track until it succeeds. */
  loadAudio(trackId: string, signal: AbortSignal): Promise<ArrayBuffer>;
  /** A track's audio could not be fetched or decoded: its clips stay silent. */
  onLoadError?(trackId: string, error: unknown): void;
}

interface LaneNodes {
  input: GainNode;
  pan: StereoPannerNode;
  analyser: AnalyserNode;
  samples: Float32Array<ArrayBuffer>;
}

interface Voice {
  source: AudioBufferSourceNode;
  gain: GainNode;
}

interface Playback {
  /** Timeline position where this run of playback started. */
  anchor: number;
  /** Audio-clock time at which `anchor` sounds. */
  anchorTime: number;
  loop: LoopRegion | null;
  /** Elapsed playing time up to which sources have been scheduled. */
  scheduledUntil: number;
}

/** Time given to the first sources between pressing play and their start, so none begins late. */
const START_LEAD_SEC = 0.06;
const TICK_MS = 25;
/** Look-ahead while the page is visible; hidden pages get their timers throttled to ~1 s, so they look further. */
const LOOKAHEAD_SEC = 0.25;
const HIDDEN_LOOKAHEAD_SEC = 1.6;
/** Fader moves glide over ~10 ms instead of clicking. */
const PARAM_SMOOTHING_SEC = 0.01;

function rmsOf(analyser: AnalyserNode, samples: Float32Array<ArrayBuffer>): number {
  analyser.getFloatTimeDomainData(samples);
  let sum = 0;
  for (const v of samples) sum += v * v;
  return Math.sqrt(sum / samples.length);
}

function clipsSignature(clips: readonly ClipTiming[]): string {
  return clips
    .map((c) => `${c.id}:${c.laneId}:${c.trackId}:${c.startSec}:${c.offsetSec}:${c.lengthSec}:${c.fadeInSec}:${c.fadeOutSec}`)
    .sort()
    .join('|');
}

export class AudioEngine {
  private readonly options: AudioEngineOptions;
  private ctx: AudioContext | null = null;
  private masterGain: GainNode | null = null;
  private masterAnalyser: AnalyserNode | null = null;
  private masterSamples: Float32Array<ArrayBuffer> | null = null;
  private readonly laneNodes = new Map<string, LaneNodes>();
  private readonly buffers = new Map<string, Promise<AudioBuffer | null>>();
  private readonly decoded = new Map<string, AudioBuffer>();
  private readonly voices = new Set<Voice>();
  private readonly abort = new AbortController();
  private lanes: LaneMix[] = [];
  private clips: ClipTiming[] = [];
  private signature = '';
  private loop: LoopRegion | null = null;
  private playback: Playback | null = null;
  private pausedAt = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Bumped by every play/pause/stop, so a play still waiting for audio does not start after a later stop. */
  private generation = 0;
  private snapshot: EngineSnapshot = { state: 'stopped', loading: false };
  private readonly listeners = new Set<() => void>();
  private disposed = false;

  constructor(options: AudioEngineOptions) {
    this.options = options;
  }

  get state(): TransportState {
    return this.snapshot.state;
  }

  getSnapshot = (): EngineSnapshot => this.snapshot;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private update(patch: Partial<EngineSnapshot>): void {
    const next = { ...this.snapshot, ...patch };
    if (next.state === this.snapshot.state && next.loading === this.snapshot.loading) return;
    this.snapshot = next;
    for (const listener of this.listeners) listener();
  }

  /** The arrangement to play. Mixer changes apply at once; clip changes during playback reschedule from here. */
  setArrangement(lanes: readonly LaneMix[], clips: readonly ClipTiming[]): void {
    this.lanes = lanes.map((l) => ({ ...l }));
    this.clips = clips.map((c) => ({ ...c }));
    if (this.ctx) this.syncLanes(this.ctx);
    const signature = clipsSignature(this.clips);
    if (signature !== this.signature) {
      this.signature = signature;
      if (this.playback) this.restartAt(this.position());
    }
  }

  /** The loop region, or null for none. Takes effect at once, also during playback. */
  setLoop(loop: LoopRegion | null): void {
    const same =
      (loop === null && this.loop === null) ||
      (loop !== null && this.loop !== null && loop.startSec === this.loop.startSec && loop.endSec === this.loop.endSec);
    if (same) return;
    this.loop = loop ? { ...loop } : null;
    if (this.playback) this.restartAt(this.position());
  }

  /** Current timeline position in seconds. */
  position(): number {
    const p = this.playback;
    if (!p || !this.ctx) return this.pausedAt;
    return positionAfter(p.anchor, this.ctx.currentTime - p.anchorTime, p.loop);
  }

  async play(): Promise<void> {
    if (this.disposed || this.snapshot.state === 'playing') return;
    const generation = ++this.generation;
    const ctx = this.context();
    // Resuming inside the click handler's task is what lets the browser's autoplay policy allow sound.
    const resumed = ctx.resume();
    this.update({ loading: true });
    try {
      await resumed;
      await this.preload(this.clips.map((c) => c.trackId));
    } finally {
      if (generation === this.generation) this.update({ loading: false });
    }
    if (generation !== this.generation || this.disposed) return;
    this.startAt(this.pausedAt);
    this.update({ state: 'playing' });
  }

  pause(): void {
    this.generation++;
    if (this.playback) this.pausedAt = this.position();
    this.halt();
    this.update({ state: this.pausedAt > 0 ? 'paused' : 'stopped', loading: false });
  }

  /** Stops and returns to the start of the timeline. */
  stop(): void {
    this.generation++;
    this.halt();
    this.pausedAt = 0;
    this.update({ state: 'stopped', loading: false });
  }

  seek(seconds: number): void {
    const target = Math.max(0, seconds);
    if (this.playback) this.restartAt(target);
    else {
      this.pausedAt = target;
      // Listeners redraw the playhead; the state itself may not change.
      for (const listener of this.listeners) listener();
    }
  }

  /** Fetches and decodes the audio of these tracks (once each); failures are reported and leave the clips silent. */
  async preload(trackIds: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(trackIds)].map((id) => this.buffer(id)));
  }

  isLoaded(trackId: string): boolean {
    return this.decoded.has(trackId);
  }

  /** RMS (0…1) of what the master bus is playing right now. */
  masterRms(): number {
    if (!this.masterAnalyser || !this.masterSamples) return 0;
    return rmsOf(this.masterAnalyser, this.masterSamples);
  }

  /** RMS (0…1) of a lane after its fader, mute/solo and pan: what its meter shows. */
  laneRms(laneId: string): number {
    const nodes = this.laneNodes.get(laneId);
    return nodes ? rmsOf(nodes.analyser, nodes.samples) : 0;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.generation++;
    this.halt();
    this.abort.abort();
    this.listeners.clear();
    const ctx = this.ctx;
    this.ctx = null;
    this.laneNodes.clear();
    if (ctx) void ctx.close().catch(() => undefined);
  }

  private context(): AudioContext {
    if (this.ctx) return this.ctx;
    const ctx = new AudioContext({ latencyHint: 'interactive' });
    const masterGain = ctx.createGain();
    const masterAnalyser = ctx.createAnalyser();
    masterAnalyser.fftSize = 2048;
    masterGain.connect(masterAnalyser);
    masterAnalyser.connect(ctx.destination);
    this.ctx = ctx;
    this.masterGain = masterGain;
    this.masterAnalyser = masterAnalyser;
    this.masterSamples = new Float32Array(masterAnalyser.fftSize);
    this.syncLanes(ctx);
    return ctx;
  }

  /** Creates, updates and removes lane strips to match the arrangement's lanes. */
  private syncLanes(ctx: AudioContext): void {
    const master = this.masterGain;
    if (!master) return;
    const gains = laneGains(this.lanes);
    const present = new Set<string>();
    for (const lane of this.lanes) {
      present.add(lane.id);
      let nodes = this.laneNodes.get(lane.id);
      const gain = gains.get(lane.id) ?? 0;
      const pan = clampPan(lane.pan);
      if (!nodes) {
        const input = ctx.createGain();
        const panner = ctx.createStereoPanner();
        const analyser = ctx.createAnalyser();
        analyser.fftSize = 2048;
        input.gain.value = gain;
        panner.pan.value = pan;
        input.connect(panner);
        panner.connect(analyser);
        analyser.connect(master);
        nodes = { input, pan: panner, analyser, samples: new Float32Array(analyser.fftSize) };
        this.laneNodes.set(lane.id, nodes);
      } else {
        nodes.input.gain.setTargetAtTime(gain, ctx.currentTime, PARAM_SMOOTHING_SEC);
        nodes.pan.pan.setTargetAtTime(pan, ctx.currentTime, PARAM_SMOOTHING_SEC);
      }
    }
    for (const [id, nodes] of this.laneNodes) {
      if (present.has(id)) continue;
      nodes.analyser.disconnect();
      nodes.pan.disconnect();
      nodes.input.disconnect();
      this.laneNodes.delete(id);
    }
  }

  private buffer(trackId: string): Promise<AudioBuffer | null> {
    const known = this.buffers.get(trackId);
    if (known) return known;
    const loading = (async () => {
      try {
        const encoded = await this.options.loadAudio(trackId, this.abort.signal);
        const buffer = await this.context().decodeAudioData(encoded);
        this.decoded.set(trackId, buffer);
        // A clip of this track may have been skipped while its audio was on the way.
        if (this.playback && this.clips.some((c) => c.trackId === trackId)) this.restartAt(this.position());
        return buffer;
      } catch (err) {
        // Forgotten, so the next play tries again (a presigned URL may have expired, the network may be back).
        this.buffers.delete(trackId);
        if (!this.abort.signal.aborted) this.options.onLoadError?.(trackId, err);
        return null;
      }
    })();
    this.buffers.set(trackId, loading);
    return loading;
  }

  private startAt(position: number): void {
    const ctx = this.context();
    this.playback = {
      anchor: position,
      anchorTime: ctx.currentTime + START_LEAD_SEC,
      loop: effectiveLoop(this.loop, position),
      scheduledUntil: 0,
    };
    this.tick();
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
  }

  private restartAt(position: number): void {
    this.stopVoices();
    this.startAt(position);
  }

  private halt(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.playback = null;
    this.stopVoices();
  }

  private stopVoices(): void {
    for (const voice of this.voices) {
      voice.source.onended = null;
      try {
        voice.source.stop();
      } catch {
        // Never started (its start time was still ahead) on some engines: disconnecting silences it anyway.
      }
      voice.source.disconnect();
      voice.gain.disconnect();
    }
    this.voices.clear();
  }

  private tick(): void {
    const p = this.playback;
    const ctx = this.ctx;
    if (!p || !ctx) return;
    const lookahead = typeof document !== 'undefined' && document.hidden ? HIDDEN_LOOKAHEAD_SEC : LOOKAHEAD_SEC;
    const horizon = Math.max(0, ctx.currentTime - p.anchorTime) + lookahead;
    if (horizon <= p.scheduledUntil) return;
    for (const piece of windowPieces(p.anchor, p.scheduledUntil, horizon, p.loop)) {
      const starts = planStarts(this.clips, piece.from, piece.to, {
        entry: piece.entry,
        ...(p.loop ? { stopAt: p.loop.endSec } : {}),
      });
      for (const start of starts) {
        this.startVoice(ctx, start, p.anchorTime + piece.elapsed + (start.at - piece.from));
      }
    }
    p.scheduledUntil = horizon;
  }

  private startVoice(ctx: AudioContext, start: PlannedStart, when: number): void {
    const lane = this.laneNodes.get(start.clip.laneId);
    const buffer = this.decoded.get(start.clip.trackId);
    if (!lane) return;
    if (!buffer) {
      void this.buffer(start.clip.trackId);
      return;
    }
    // A tick that ran late starts the source now, further into the audio, so it stays in time with the others.
    const late = Math.max(0, ctx.currentTime - when);
    const duration = start.duration - late;
    if (duration <= 0) return;
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    const gain = ctx.createGain();
    for (const point of fadeEnvelope(start.clip, start.into)) {
      const t = when + point.time;
      if (point.ramp) gain.gain.linearRampToValueAtTime(point.value, t);
      else gain.gain.setValueAtTime(point.value, t);
    }
    source.connect(gain);
    gain.connect(lane.input);
    const voice: Voice = { source, gain };
    source.onended = () => {
      this.voices.delete(voice);
      source.disconnect();
      gain.disconnect();
    };
    this.voices.add(voice);
    source.start(when + late, start.offset + late, duration);
  }
}

/**
 * Test hooks for browser tests (and curious developers): `window.__dawg` reads the engine's meters, position and
 * state. Read-only and without any data of the user's, so they are safe to leave in production builds.
 */
export interface DawgTestHooks {
  masterRms(): number;
  laneRms(laneId: string): number;
  position(): number;
  readonly state: TransportState;
}

declare global {
  interface Window {
    __dawg?: DawgTestHooks;
  }
}

export function installTestHooks(engine: AudioEngine): () => void {
  const hooks: DawgTestHooks = {
    masterRms: () => engine.masterRms(),
    laneRms: (laneId: string) => engine.laneRms(laneId),
    position: () => engine.position(),
    get state() {
      return engine.state;
    },
  };
  window.__dawg = hooks;
  return () => {
    if (window.__dawg === hooks) delete window.__dawg;
  };
}
