import { describe, expect, it } from 'vitest';
import { ChatError, type Image, type Message } from '../protocol/index.js';
import { MemoryStorage } from '../storage/memory-storage.js';
import type { OutboxRow } from '../storage/types.js';
import { OutboxDrainer } from './outbox-drainer.js';
import type { UploadControl } from './uploads.js';

const IMAGE: Image = { url: '/uploads/x', mime: 'image/png', size: 100 };

function row(clientId: string, image: Blob | null): OutboxRow {
  return { clientId, userId: 'u1', roomId: 'r1', text: clientId, image, uploadedImage: null, createdAt: 1, order: 1, attempts: 0, lastError: null, status: 'pending' };
}

/** A drainer whose uploads and create_message calls the test finishes by hand. */
function harness() {
  const storage = new MemoryStorage();
  const uploads: Array<{ control: UploadControl; finish(image: Image): void }> = [];
  const creates: Array<{ clientId: string; finish(): void; fail(error: Error): void }> = [];
  const progress: Array<[string, number, number]> = [];
  const removed: string[] = [];
  const drainer = new OutboxDrainer({
    userId: 'u1',
    outbox: storage.outbox,
    changes: storage.changes,
    isOpen: () => true,
    // No changes are made here; a change would be a test of its own.
    sendChange: () => Promise.reject(new Error('no changes in these tests')),
    onChangeQueued: () => undefined,
    onChangeRemoved: () => undefined,
    onChanged: () => undefined,
    onRefused: () => undefined,
    upload: (_image, control) =>
      new Promise<Image>((resolve, reject) => {
        control.signal.addEventListener('abort', () => reject(new Error('aborted')));
        uploads.push({ control, finish: resolve });
      }),
    onUploadProgress: (_roomId, clientId, loaded, total) => progress.push([clientId, loaded, total]),
    createMessage: (data) =>
      new Promise<{ message: Message }>((resolve, reject) => {
        const message = { ...data, id: `m-${data.clientId}`, senderId: 'u1', seq: 1, createdAt: 2, image: data.image ? IMAGE : null } as unknown as Message;
        creates.push({ clientId: data.clientId, finish: () => resolve({ message }), fail: reject });
      }),
    backoff: () => 10,
    onChange: () => undefined,
    onRemoved: (_roomId, clientId) => removed.push(clientId),
    onSent: () => undefined,
    onError: (error) => {
      throw error;
    },
  });
  return { storage, drainer, uploads, creates, progress, removed };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const png = () => new Blob([new Uint8Array(100)], { type: 'image/png' });

describe('OutboxDrainer: discarding while an image uploads', () => {
  it('aborts the upload, deletes the row, tells the tabs; create_message never goes', async () => {
    const h = harness();
    await h.drainer.add(row('a', png()));
    expect(h.uploads).toHaveLength(1);
    h.uploads[0]!.control.onProgress(30, 100);
    expect(h.drainer.messages()[0]?.upload).toEqual({ loaded: 30, total: 100 });
    await h.drainer.discard('a');
    expect(h.uploads[0]!.control.signal.aborted).toBe(true);
    expect(h.removed).toEqual(['a']);
    expect(await h.storage.outbox.listByUser('u1')).toEqual([]);
    // Progress the platform still reports after the abort is not passed on.
    h.uploads[0]!.control.onProgress(60, 100);
    await tick();
    expect(h.progress.map(([, loaded]) => loaded)).toEqual([30]);
    expect(h.creates).toHaveLength(0);
  });

  it('an upload that finished in the same turn as the discard still sends nothing', async () => {
    const h = harness();
    await h.drainer.add(row('a', png()));
    h.uploads[0]!.finish(IMAGE); // resolved, but the drainer has not run on yet
    await h.drainer.discard('a');
    await tick();
    expect(h.creates).toHaveLength(0);
    expect(h.removed).toEqual(['a']);
  });

  it('once the upload is done, a discard is refused with CONFLICT and the message is sent', async () => {
    const h = harness();
    await h.drainer.add(row('a', png()));
    h.uploads[0]!.finish(IMAGE);
    await tick();
    expect(h.creates.map((c) => c.clientId)).toEqual(['a']);
    await expect(h.drainer.discard('a')).rejects.toMatchObject({ code: 'CONFLICT' });
    h.creates[0]!.finish();
    await tick();
    // Sent: a discard that comes now says so too, rather than seem to work.
    await expect(h.drainer.discard('a')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(h.removed).toEqual([]);
  });

  it('a discard right after add waits for the row to be stored, then decides', async () => {
    const h = harness();
    const adding = h.drainer.add(row('a', png()));
    const discarding = h.drainer.discard('a');
    await adding;
    await discarding;
    expect(h.uploads[0]!.control.signal.aborted).toBe(true);
    expect(h.removed).toEqual(['a']);
    expect(h.creates).toHaveLength(0);
  });

  it('the next message of the room goes on after a cancelled upload', async () => {
    const h = harness();
    await h.drainer.add(row('a', png()));
    await h.drainer.add({ ...row('b', null), order: 2 });
    await h.drainer.discard('a');
    await tick();
    expect(h.creates.map((c) => c.clientId)).toEqual(['b']);
  });

  it('stop() aborts an upload and keeps the row for the next start', async () => {
    const h = harness();
    await h.drainer.add(row('a', png()));
    h.drainer.stop();
    expect(h.uploads[0]!.control.signal.aborted).toBe(true);
    await tick();
    expect((await h.storage.outbox.listByUser('u1')).map((r) => r.clientId)).toEqual(['a']);
    expect(h.creates).toHaveLength(0);
  });

  it('stop() while create_message is in flight keeps the row pending: the CLOSED that follows is not the server refusing it', async () => {
    const h = harness();
    await h.drainer.add(row('a', null));
    expect(h.creates.map((c) => c.clientId)).toEqual(['a']);
    // close(): the drainer stops, then the connection fails what is waiting on it with CLOSED.
    h.drainer.stop();
    h.creates[0]!.fail(new ChatError('CLOSED', 'the client was closed'));
    await tick();
    const stored = await h.storage.outbox.listByUser('u1');
    expect(stored.map((r) => [r.clientId, r.status, r.lastError])).toEqual([['a', 'pending', null]]);
  });
});
