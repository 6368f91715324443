/**
 * Audio analysis for tests that judge generated music by what it sounds like: decoding through ffmpeg, tempo,
 * onsets and their grid alignment, pitch classes and harmonic rhythm, levels and loudness.
 * Import as `@dawg/testing/audio/index` (or the individual modules).
 */
export * from './chroma';
export * from './decode';
export * from './fft';
export * from './fixtures';
export * from './loudness';
export * from './onsets';
export * from './similarity';
export * from './tempo';
