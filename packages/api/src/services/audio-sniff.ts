/**
 * Is it audio? The first bytes of a file against the signatures of the formats uploads accept (WAV/RF64, AIFF, FLAC,
 * Ogg, MP3 with or without ID3, ADTS AAC, MP4/M4A). A renamed text or image file fails here before any decoding; the
 * analyze job's full decode is the final word.
 */
export type SniffedFormat = 'wav' | 'aiff' | 'flac' | 'ogg' | 'mp3' | 'aac' | 'm4a';

/** How many leading bytes `sniffAudio` needs. */
export const SNIFF_BYTES = 16;

const ascii = (b: Uint8Array, start: number, text: string) =>
  b.length >= start + text.length && [...text].every((ch, i) => b[start + i] === ch.charCodeAt(0));

export function sniffAudio(bytes: Uint8Array): SniffedFormat | null {
  if ((ascii(bytes, 0, 'RIFF') || ascii(bytes, 0, 'RF64')) && ascii(bytes, 8, 'WAVE')) return 'wav';
  if (ascii(bytes, 0, 'FORM') && (ascii(bytes, 8, 'AIFF') || ascii(bytes, 8, 'AIFC'))) return 'aiff';
  if (ascii(bytes, 0, 'fLaC')) return 'flac';
  if (ascii(bytes, 0, 'OggS')) return 'ogg';
  if (ascii(bytes, 0, 'ID3')) return 'mp3';
  if (ascii(bytes, 4, 'ftyp')) return 'm4a';
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0) {
    const layer = (bytes[1]! >> 1) & 0x03;
    // ADTS (AAC) has layer bits 00 and a 12-bit sync; MPEG audio layers I–III are 01–11.
    if (layer === 0) return (bytes[1]! & 0xf0) === 0xf0 ? 'aac' : null;
    const bitrate = bytes.length >= 3 ? bytes[2]! >> 4 : 0;
    return bitrate === 0x0f ? null : 'mp3';
  }
  return null;
}
