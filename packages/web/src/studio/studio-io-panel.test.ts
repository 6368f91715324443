import { describe, expect, it } from 'vitest';
import { uploadTypeOf } from './studio-io-panel';

describe('uploadTypeOf', () => {
  it('takes the browser’s type when it is an accepted one, else the extension', () => {
    expect(uploadTypeOf({ name: 'a.wav', type: 'audio/x-wav' })).toBe('audio/x-wav');
    expect(uploadTypeOf({ name: 'Song.MP3', type: '' })).toBe('audio/mpeg');
    expect(uploadTypeOf({ name: 'take.flac', type: 'application/octet-stream' })).toBe('audio/flac');
    expect(uploadTypeOf({ name: 'notes.txt', type: 'text/plain' })).toBeNull();
    expect(uploadTypeOf({ name: 'noext', type: '' })).toBeNull();
  });
});
