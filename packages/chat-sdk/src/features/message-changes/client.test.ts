import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../contract/chat-message.js';
import type { ChatChange } from '../../contract/message-changes.js';
import type { Message } from '../../protocol/index.js';
import { RoomMessages } from '../../client/room-messages.js';
import { applyChanges, quoteOf, toReactions } from './client.js';

const ME = 'u-me';
const base: ChatMessage = {
  id: 'm1', roomId: 'r1', senderId: ME, clientId: 'c1', seq: 1, text: 'hello', image: null, createdAt: 1, status: 'sent', localCreatedAt: 1,
  reactions: [{ emoji: '👍', userIds: ['u-bob'], mine: false }],
};
let n = 0;
const change = (op: ChatChange['op'], status: ChatChange['status'] = 'pending', target = base): ChatChange => ({
  clientChangeId: `ch${++n}`, roomId: 'r1', messageId: target.id, clientId: target.clientId, senderId: target.senderId, op, status, createdAt: 100 + n, order: n,
});
const server = (seq: number, extra: Partial<Message> = {}): Message => ({
  id: `m${seq}`, roomId: 'r1', senderId: 'u-bob', clientId: `c${seq}`, seq, text: `t${seq}`, image: null, createdAt: seq, ...extra,
});

describe('applyChanges', () => {
  it('applies pending changes in order, lists failed ones without applying them', () => {
    const edit = change({ kind: 'edit', text: 'one' });
    const failed = change({ kind: 'edit', text: 'never' }, 'failed');
    const react = change({ kind: 'react', emoji: '👍', on: true });
    const shown = applyChanges(base, [edit, failed, react], ME);
    expect(shown).toMatchObject({ text: 'one', editedAt: edit.createdAt, changes: [edit, failed, react] });
    expect(shown.reactions).toEqual([{ emoji: '👍', userIds: ['u-bob', ME], mine: true, pending: true }]);
    expect(base.text).toBe('hello');
  });

  it('a delete empties text, image and reactions, and nothing applies after it', () => {
    const shown = applyChanges(base, [change({ kind: 'delete' }), change({ kind: 'edit', text: 'late' })], ME);
    expect(shown).toMatchObject({ text: '', image: null });
    expect(shown.deletedAt).toBeTypeOf('number');
    expect(shown.reactions).toBeUndefined();
  });

  it('unreact drops the user, and the emoji once nobody is left', () => {
    const mine = { ...base, reactions: [{ emoji: '🎉', userIds: [ME], mine: true }] };
    expect(applyChanges(mine, [change({ kind: 'react', emoji: '🎉', on: false })], ME).reactions).toBeUndefined();
    // Already so: unchanged.
    expect(applyChanges(base, [change({ kind: 'react', emoji: '👍', on: false })], ME).reactions).toEqual(base.reactions);
  });

  it('wire reactions become a list with the own marked; quotes cut at 100 code points and say deleted', () => {
    expect(toReactions({ '👍': ['a', ME], '🎉': [] }, ME)).toEqual([{ emoji: '👍', userIds: ['a', ME], mine: true }]);
    expect(toReactions(undefined, ME)).toBeUndefined();
    expect(quoteOf({ ...base, text: '😀'.repeat(150) }).text).toBe('😀'.repeat(100));
    expect(quoteOf({ ...base, deletedAt: 5, text: '' })).toEqual({ id: 'm1', senderId: ME, text: '', deleted: true });
  });
});

describe('RoomMessages with changes', () => {
  it('a newer rev replaces a sent message in place; an older or equal one changes nothing; other rows keep identity', () => {
    const store = new RoomMessages('r1', () => ME);
    store.mergeServer([server(1), server(2), server(3)]);
    const before = store.getSnapshot().messages;
    expect(store.mergeUpdates([server(2, { text: 'edited', rev: 1, reactions: { '👍': [ME] } })])).toBe(1);
    const after = store.getSnapshot().messages;
    expect(after[1]).toMatchObject({ text: 'edited', rev: 1, reactions: [{ emoji: '👍', userIds: [ME], mine: true }] });
    expect(after[0]).toBe(before[0]);
    expect(after[2]).toBe(before[2]);
    expect(store.mergeUpdates([server(2, { text: 'stale', rev: 1 })])).toBe(0);
    expect(store.mergeServer([server(2)]).changed).toBe(0);
    expect(store.getSnapshot().messages).toBe(after);
    // Not held: left out (no island in the store).
    expect(store.mergeUpdates([server(9, { rev: 2 })])).toBe(0);
    expect(store.getSnapshot().messages).toHaveLength(3);
  });

  it('a pending change re-renders its row only, and leaves no trace once removed', () => {
    const store = new RoomMessages('r1', () => ME);
    store.mergeServer([server(1), server(2)]);
    const before = store.getSnapshot().messages;
    const target = before[0]!;
    const react = change({ kind: 'react', emoji: '👀', on: true }, 'pending', target);
    store.setChange(react);
    const shown = store.getSnapshot().messages;
    expect(shown[0]!.reactions).toMatchObject([{ emoji: '👀', mine: true, pending: true }]);
    expect(shown[1]).toBe(before[1]);
    // The same change again (an echo from the host): nothing new.
    store.setChange({ ...react });
    expect(store.getSnapshot().messages).toBe(shown);
    store.removeChange(react.clientChangeId);
    expect(store.getSnapshot().messages[0]).toBe(target);
  });

  it('a reply\'s quote follows its parent as the store shows it', () => {
    const store = new RoomMessages('r1', () => ME);
    store.mergeServer([server(1), server(2, { replyTo: { id: 'm1', senderId: 'u-bob', text: 't1' } })]);
    expect(store.getSnapshot().messages[1]!.replyTo?.text).toBe('t1');
    store.mergeUpdates([server(1, { text: 'changed', rev: 1, editedAt: 3 })]);
    expect(store.getSnapshot().messages[1]!.replyTo).toEqual({ id: 'm1', senderId: 'u-bob', text: 'changed' });
    store.mergeUpdates([server(1, { text: '', rev: 2, deletedAt: 4 })]);
    expect(store.getSnapshot().messages[1]!.replyTo).toEqual({ id: 'm1', senderId: 'u-bob', text: '', deleted: true });
  });
});
