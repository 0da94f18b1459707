import { randomBytes } from 'node:crypto';
import {
  type WriteStream, closeSync, createWriteStream, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, unlinkSync, writeSync,
} from 'node:fs';
import { type FileHandle, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Upload ids are base64url; anything else in the directory (a dot) is not a finished upload. */
const UPLOAD_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** A file being written: `<id>.<random>.partial`, renamed to `<id>` once complete. */
const PARTIAL = /^([A-Za-z0-9_-]{1,64})\.[A-Za-z0-9_-]+\.partial$/;

/**
 * The bytes of uploads, one file per upload in one directory, written and read with
 * streams on libuv's thread pool so that no upload holds up the event loop. A file is
 * written under a temporary name and renamed to its id only once complete and flushed
 * to disk, so a crash never leaves a half file under a servable name; the metadata
 * (`UploadRecord`) is in the storage and written only after the rename.
 *
 * The directory is `<db>.uploads/` next to a SQLite file, `CHAT_UPLOADS_DIR`, or (memory
 * storage, SQLite `:memory:`) a temporary directory removed at `close`.
 */
export class UploadFiles {
  readonly dir: string;
  /** Made by us for a storage that keeps nothing: removed at close. */
  readonly temporary: boolean;
  private closed = false;

  constructor(dir?: string) {
    if (dir === undefined) {
      this.dir = mkdtempSync(join(tmpdir(), 'chat-uploads-'));
      this.temporary = true;
    } else {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        throw new Error(`cannot create the uploads folder ${dir} (${code || String(error)}); set CHAT_UPLOADS_DIR to a writable folder`);
      }
      this.dir = dir;
      this.temporary = false;
    }
  }

  /** Where the finished upload `id` lives. */
  pathOf(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new TypeError(`not an upload id: ${id}`);
    return join(this.dir, id);
  }

  /** Starts writing the bytes of upload `id` under a temporary name (see `UploadWriter`). */
  create(id: string): UploadWriter {
    const final = this.pathOf(id);
    return new UploadWriter(final, `${final}.${randomBytes(6).toString('base64url')}.partial`);
  }

  /**
   * Opens the finished upload `id` for reading: its handle and size, or undefined when
   * there is no such file. The caller closes the handle (a read stream made from it with
   * `autoClose` does).
   */
  async open(id: string): Promise<{ handle: FileHandle; size: number } | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(id), 'r');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return { handle, size: (await handle.stat()).size };
    } catch (error) {
      await handle.close().catch(() => {});
      throw error;
    }
  }

  /** Deletes the file of upload `id`, if there is one. */
  async remove(id: string): Promise<void> {
    await unlinkQuietly(this.pathOf(id));
  }

  /**
   * Deletes the file in the background: the storage's interface is synchronous, and a
   * file left behind by a failure is a file without metadata, removed at the next start.
   */
  removeSoon(id: string): void {
    if (this.closed) return;
    this.remove(id).catch(() => {});
  }

  /**
   * Writes a whole upload at once, synchronously (the start-up migration of bytes kept in
   * SQLite, before the server listens): temporary name, flushed, renamed.
   */
  writeSync(id: string, parts: Iterable<Buffer>): number {
    const final = this.pathOf(id);
    const temp = `${final}.${randomBytes(6).toString('base64url')}.partial`;
    const fd = openSync(temp, 'w');
    let size = 0;
    try {
      for (const part of parts) {
        for (let at = 0; at < part.length; ) at += writeSync(fd, part, at);
        size += part.length;
      }
      fsyncSync(fd);
    } catch (error) {
      closeSync(fd);
      try {
        unlinkSync(temp);
      } catch {
        // already gone
      }
      throw error;
    }
    closeSync(fd);
    renameSync(temp, final);
    return size;
  }

  /**
   * What the directory holds: finished uploads by id, and temporary files (uploads that never
   * finished). With `olderThanMs`, only files last written before then (a file another process
   * is writing, or has just renamed, is younger).
   */
  async list({ olderThanMs }: { olderThanMs?: number } = {}): Promise<{ ids: string[]; partials: string[] }> {
    const ids: string[] = [];
    const partials: string[] = [];
    for (const entry of await readdir(this.dir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const isId = UPLOAD_ID.test(entry.name);
      if (!isId && !PARTIAL.test(entry.name)) continue;
      if (olderThanMs !== undefined && !(await lastWrittenBefore(join(this.dir, entry.name), olderThanMs))) continue;
      (isId ? ids : partials).push(entry.name);
    }
    return { ids, partials };
  }

  /** Removes a temporary file named by `list`. */
  async removePartial(name: string): Promise<void> {
    if (!PARTIAL.test(name)) throw new TypeError(`not a temporary upload file: ${name}`);
    await unlinkQuietly(join(this.dir, name));
  }

  /** A temporary directory is removed with everything in it; a configured one is left as it is. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.temporary) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * One upload being written: `write` its chunks (false: wait for `onDrain`, as with any
 * stream), then `commit` (end, flush to disk, rename to the id) or `abort` (the temporary
 * file is deleted; after a commit, the finished file is).
 */
export class UploadWriter {
  private readonly stream: WriteStream;
  private state: 'writing' | 'committing' | 'committed' | 'aborted' = 'writing';
  private error: Error | undefined;
  private readonly errorListeners: Array<(error: Error) => void> = [];

  constructor(
    private readonly final: string,
    private readonly temp: string,
  ) {
    // 'wx': never write into a file that exists; flush: fsync before the file is closed.
    this.stream = createWriteStream(temp, { flags: 'wx', flush: true });
    this.stream.on('error', (error) => {
      this.error ??= error;
      if (this.state === 'writing') for (const listener of this.errorListeners) listener(error);
    });
  }

  /** Called once if writing fails (disk full, the folder gone...) before `commit`. */
  onError(listener: (error: Error) => void): void {
    this.errorListeners.push(listener);
  }

  /** Queues a chunk; false when the stream holds more than its high-water mark: wait for `onDrain`. */
  write(chunk: Buffer): boolean {
    if (this.state !== 'writing') return true;
    return this.stream.write(chunk);
  }

  onDrain(listener: () => void): void {
    this.stream.once('drain', listener);
  }

  /** Ends the file, waits until it is flushed and closed, then gives it its final name. */
  async commit(): Promise<void> {
    if (this.state !== 'writing') throw new Error(`cannot commit an upload that is ${this.state}`);
    this.state = 'committing';
    try {
      await new Promise<void>((resolve, reject) => {
        if (this.error) return reject(this.error);
        this.stream.once('error', reject);
        this.stream.once('close', () => (this.error ? reject(this.error) : resolve()));
        this.stream.end();
      });
      if (this.aborted()) throw new Error('the upload was aborted while it was committed');
      await rename(this.temp, this.final);
    } catch (error) {
      this.state = 'aborted';
      await unlinkQuietly(this.temp);
      throw error;
    }
    if (this.aborted()) {
      await unlinkQuietly(this.final);
      throw new Error('the upload was aborted while it was committed');
    }
    this.state = 'committed';
  }

  private aborted(): boolean {
    return this.state === 'aborted';
  }

  /** Drops what was written: the temporary file, or the finished one after a commit. Safe to call twice. */
  abort(): void {
    const was = this.state;
    if (was === 'aborted') return;
    this.state = 'aborted';
    if (was === 'committed') {
      unlinkQuietly(this.final).catch(() => {});
      return;
    }
    if (was === 'committing') return; // commit sees it and removes what it wrote
    // Once the descriptor is closed (an open still in flight included), the temporary goes.
    this.stream.once('close', () => void unlinkQuietly(this.temp).catch(() => {}));
    this.stream.destroy();
  }
}

/** False for a file gone meanwhile (another process's sweep or rename), as for a young one. */
async function lastWrittenBefore(path: string, time: number): Promise<boolean> {
  try {
    return (await stat(path)).mtimeMs < time;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return false;
    throw error;
  }
}

async function unlinkQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }
}

/**
 * How long a file in a shared uploads folder must sit untouched before the start-up sweep of
 * another process may take it for a leftover: twice Node's limit on one HTTP request (5 min),
 * so no upload still being written or committed is that old.
 */
export const SHARED_SWEEP_AGE_MS = 10 * 60_000;

/** What the storages share for their uploads: the records by id, and the files. */
export interface UploadIndex {
  readonly uploadFiles: UploadFiles;
  uploadIds(): string[] | Promise<string[]>;
  deleteUpload(id: string): void | Promise<void>;
}

/**
 * At start, before the server listens: deletes temporary files (uploads a crash or kill
 * cut short), files without a record (a crash between the rename and the record, or a
 * delete whose unlink failed), and records without a file (a file lost or removed by
 * hand), so that what is listed is what can be served. Returns what it removed.
 *
 * `shared`: a database (and maybe an uploads folder) other running processes use. Their
 * records may name files in their own folders: records without a file here are left alone.
 * And the folder may hold their uploads in flight (a temporary file, or a file renamed
 * a moment before its record commits): only files untouched for `SHARED_SWEEP_AGE_MS` go.
 */
export async function sweepUploadFiles(
  storage: UploadIndex,
  { shared = false, now = Date.now() }: { shared?: boolean; now?: number } = {},
): Promise<{ partials: number; strayFiles: number; missingFiles: number }> {
  const files = storage.uploadFiles;
  const { ids, partials } = await files.list(shared ? { olderThanMs: now - SHARED_SWEEP_AGE_MS } : {});
  for (const name of partials) await files.removePartial(name);
  // Records are read after the files are listed: a file listed here whose record another
  // process commits meanwhile is found, not taken for a stray.
  const recorded = new Set(await storage.uploadIds());
  let strayFiles = 0;
  for (const id of ids) {
    if (recorded.has(id)) continue;
    await files.remove(id);
    strayFiles++;
  }
  let missingFiles = 0;
  if (!shared) {
    const onDisk = new Set(ids);
    for (const id of recorded) {
      if (onDisk.has(id)) continue;
      await storage.deleteUpload(id);
      missingFiles++;
    }
  }
  return { partials: partials.length, strayFiles, missingFiles };
}
