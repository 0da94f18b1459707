import { describe, expect, it } from 'vitest';
import { Emitter } from './emitter.js';

type Events = { message: [text: string, n: number]; other: [] };

describe('Emitter', () => {
  it('calls listeners in the order they were added, with the arguments and context given', () => {
    const emitter = new Emitter<Events>();
    const calls: string[] = [];
    const context = { name: 'ctx' };
    emitter.on('message', (text, n) => calls.push(`a:${text}:${n}`));
    emitter.on('message', function (this: { name: string }, text) {
      calls.push(`b:${text}:${this.name}`);
    }, context);
    expect(emitter.emit('message', 'hi', 1)).toBe(true);
    expect(emitter.emit('other')).toBe(false);
    expect(calls).toEqual(['a:hi:1', 'b:hi:ctx']);
  });

  it('once listeners run once; off removes one listener or, without one, all of an event', () => {
    const emitter = new Emitter<Events>();
    const calls: string[] = [];
    const keep = () => calls.push('keep');
    const drop = () => calls.push('drop');
    emitter.once('other', () => calls.push('once'));
    emitter.on('other', keep).on('other', drop);
    emitter.off('other', drop);
    emitter.emit('other');
    emitter.emit('other');
    expect(calls).toEqual(['once', 'keep', 'keep']);
    expect(emitter.listenerCount('other')).toBe(1);
    emitter.off('other');
    expect(emitter.listenerCount('other')).toBe(0);
  });

  it('a listener removing itself or another while an event is told does not skip or repeat anyone', () => {
    const emitter = new Emitter<Events>();
    const calls: string[] = [];
    const second = () => calls.push('second');
    const first = () => {
      calls.push('first');
      emitter.off('other', first);
      emitter.off('other', second);
    };
    emitter.on('other', first).on('other', second);
    emitter.emit('other');
    emitter.emit('other');
    expect(calls).toEqual(['first', 'second']);
    expect(emitter.listeners('other')).toEqual([]);
  });

  it('refuses a listener that is not a function, and removeAllListeners clears every event', () => {
    const emitter = new Emitter<Events>();
    expect(() => emitter.on('other', 'nope' as never)).toThrow(TypeError);
    emitter.on('other', () => {}).on('message', () => {});
    emitter.removeAllListeners();
    expect(emitter.listenerCount('other') + emitter.listenerCount('message')).toBe(0);
  });
});
