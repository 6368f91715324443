import { describe, expect, it } from 'vitest';
import { shortcutFor, type KeyLike } from './shortcuts';

const key = (k: string, mods: Partial<KeyLike> = {}): KeyLike => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});
const body = { tagName: 'BODY' };
const canvas = { tagName: 'CANVAS' };

describe('studio shortcuts', () => {
  it('maps keys to actions', () => {
    expect(shortcutFor(key(' '), body)).toBe('playPause');
    expect(shortcutFor(key(' '), canvas)).toBe('playPause');
    expect(shortcutFor(key('Enter'), canvas)).toBe('stop');
    expect(shortcutFor(key('L', { shiftKey: true }), body)).toBe('toggleLoop');
    expect(shortcutFor(key('z', { ctrlKey: true }), body)).toBe('undo');
    expect(shortcutFor(key('Z', { metaKey: true, shiftKey: true }), body)).toBe('redo');
    expect(shortcutFor(key('y', { ctrlKey: true }), body)).toBe('redo');
    expect(shortcutFor(key('Delete'), canvas)).toBe('deleteClip');
    expect(shortcutFor(key('+'), body)).toBe('zoomIn');
    expect(shortcutFor(key('-'), body)).toBe('zoomOut');
    expect(shortcutFor(key('q'), body)).toBeNull();
  });

  it('never fires while typing, and leaves Space and Enter to buttons and Home to sliders', () => {
    expect(shortcutFor(key(' '), { tagName: 'INPUT', type: 'text' })).toBeNull();
    expect(shortcutFor(key('z', { ctrlKey: true }), { tagName: 'TEXTAREA' })).toBeNull();
    expect(shortcutFor(key('m'), { tagName: 'DIV', isContentEditable: true })).toBeNull();
    expect(shortcutFor(key(' '), { tagName: 'BUTTON' })).toBeNull();
    expect(shortcutFor(key('Enter'), { tagName: 'BUTTON' })).toBeNull();
    expect(shortcutFor(key('Home'), { tagName: 'INPUT', type: 'range' })).toBeNull();
    expect(shortcutFor(key('m'), { tagName: 'INPUT', type: 'range' })).toBe('muteLane');
    expect(shortcutFor(key('m', { altKey: true }), body)).toBeNull();
  });
});
