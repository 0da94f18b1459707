import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream';
import { MAX_UPLOAD_BYTES, isImageMimeType } from '@chat/sdk/protocol';
import type { ServerContext } from './context.js';
import { readImageInfo } from './image-info.js';
import type { OriginPolicy } from './origins.js';
import type { UploadRecord } from './storage/index.js';

const UPLOAD_PATH = /^\/uploads\/([A-Za-z0-9_-]{1,64})$/;

/**
 * The HTTP side: `POST /uploads`, `GET /uploads/<id>` (with single byte ranges), CORS and
 * preflights. POST checks run in the contract's order: origin (403), token (401), type
 * (415), size (413), bytes' signature (415). The bytes are files (`UploadFiles`), written
 * and read with streams; the record is in the storage.
 */
export function createHttpHandler(ctx: ServerContext, origins: OriginPolicy) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    try {
      route(req, res);
    } catch (error) {
      ctx.log.error('http request failed', { error });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  };

  function route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    const origin = req.headers.origin;
    const isUploads = path === '/uploads' || UPLOAD_PATH.test(path);
    if (isUploads) {
      // The CORS answer depends on Origin, so caches must key on it (uploads are cached for a year).
      res.setHeader('Vary', 'Origin');
      if (origin !== undefined && origins.allows(origin)) res.setHeader('Access-Control-Allow-Origin', origin);
    }
    if (req.method === 'OPTIONS' && isUploads) {
      if (!origins.allows(origin)) return sendJson(res, 403, { error: 'origin not allowed' });
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, Range',
        'Access-Control-Max-Age': '600',
      });
      return void res.end();
    }
    if (path === '/uploads' && req.method === 'POST') return void settle(upload(req, res), res);
    const id = UPLOAD_PATH.exec(path)?.[1];
    if (id && (req.method === 'GET' || req.method === 'HEAD')) return void settle(download(id, req, res), res);
    if (path === '/' || path === '/health') return sendJson(res, 200, { ok: true, service: 'chat mock server', ws: '/ws' });
    if (isUploads) return sendJson(res, 405, { error: 'method not allowed' });
    sendJson(res, 404, { error: 'not found' });
  }

  /** Counted until done (so `close()` waits for its storage calls); a throw answers 500 when nothing was sent yet. */
  function settle(work: Promise<void>, res: ServerResponse): Promise<void> {
    return ctx.track(
      work.catch((error: unknown) => {
        ctx.log.error('http request failed', { error });
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      }),
    );
  }

  async function upload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!origins.allows(req.headers.origin)) return refuse(req, res, 403, { error: 'origin not allowed' });
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    const user = token === undefined ? undefined : await ctx.sessions.authorize(token);
    if (!user) return refuse(req, res, 401, { error: 'a valid bearer token is required' });
    const mime = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!isImageMimeType(mime)) return refuse(req, res, 415, { error: 'Content-Type must be image/png, image/jpeg, image/gif or image/webp' });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_UPLOAD_BYTES) return refuse(req, res, 413, { error: 'an upload is at most 5 MiB' });
    const { limits } = ctx.options;
    if ((await ctx.storage.uploadBytesOf(user.id)) + (Number.isFinite(declared) ? declared : 0) > limits.uploadBytesTotal) {
      return refuse(req, res, 429, { error: 'upload quota used up: this user holds the most upload bytes allowed' });
    }
    // The client went away while storage answered: nothing to read, nothing to answer.
    if (req.destroyed) return;
    if (!ctx.limits.uploadStarted(user.id)) {
      return refuse(req, res, 429, { error: 'too many uploads in progress for this user', retryAfterMs: 1000 }, 1000);
    }

    // The bytes go to a file as they arrive (a temporary name until complete), written on
    // libuv's thread pool: the request is paused while the file is behind, so only the
    // head (for the type and the pixel size) and the stream's buffer are held in memory.
    const id = randomBytes(18).toString('base64url');
    const createdAt = ctx.now();
    const writer = ctx.storage.uploadFiles.create(id);
    let head = Buffer.alloc(0);
    let size = 0;
    let done = false;
    let holding = true;
    const release = () => {
      if (!holding) return;
      holding = false;
      ctx.limits.uploadEnded(user.id);
    };
    const finish = () => {
      if (done) return false;
      done = true;
      release();
      return true;
    };
    const abort = () => {
      if (!finish()) return;
      writer.abort();
    };
    writer.onError((error) => {
      if (done) return;
      ctx.log.error('writing an upload failed', { error });
      abort();
      sendJson(res, 500, { error: 'internal error' }, true);
      req.resume();
    });
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_UPLOAD_BYTES) {
        abort();
        return refuse(req, res, 413, { error: 'an upload is at most 5 MiB' });
      }
      const waitMs = ctx.limits.uploadBytes(user.id, chunk.length);
      if (waitMs > 0) {
        abort();
        return refuse(req, res, 429, { error: 'daily upload quota used up', retryAfterMs: waitMs }, waitMs);
      }
      if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
      if (!writer.write(chunk)) {
        req.pause();
        writer.onDrain(() => {
          if (!done) req.resume();
        });
      }
    });
    req.on('error', abort);
    req.on('close', () => {
      if (!req.complete) abort();
    });
    req.on('end', () => {
      if (done) return;
      const info = readImageInfo(head);
      if (!info || info.mime !== mime) {
        abort();
        return sendJson(res, 415, { error: `the bytes are not ${mime}` });
      }
      const url = `${ctx.options.publicUrl ?? ''}/uploads/${id}`;
      const record: UploadRecord = { id, ownerId: user.id, url, mime, size, createdAt };
      if (info.width !== undefined) record.width = info.width;
      if (info.height !== undefined) record.height = info.height;
      // The whole body is in: the client holds nothing more, so its place among the uploads
      // in progress is free. The file gets its name once complete and on disk; only then
      // the record that serves it.
      release();
      void settle(writer.commit().then(
        async () => {
          if (done) return;
          await ctx.storage.createUpload(record);
          finish();
          const { width, height } = record;
          sendJson(res, 201, { url, mime, size, ...(width === undefined ? {} : { width }), ...(height === undefined ? {} : { height }) });
        },
      ).catch((error: unknown) => {
        if (done) return;
        ctx.log.error('storing an upload failed', { error });
        abort();
        sendJson(res, 500, { error: 'internal error' });
      }), res);
    });
  }

  async function download(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const found = await ctx.storage.getUpload(id);
    if (!found) return sendJson(res, 404, { error: 'no such upload' });
    const file = await ctx.storage.uploadFiles.open(id);
    // A record whose file is missing or not whole is never served (the start-up sweep removes such records).
    if (!file || file.size !== found.size) {
      if (file) {
        ctx.log.warn('an upload file does not have its recorded size', { id, size: file.size, recorded: found.size });
        await file.handle.close();
      }
      return sendJson(res, 404, { error: 'no such upload' });
    }
    const headers: Record<string, string> = {
      'Content-Type': found.mime,
      'Accept-Ranges': 'bytes',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'public, max-age=31536000, immutable',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'Content-Security-Policy': "default-src 'none'",
    };
    const range = parseRange(req.headers.range, file.size);
    if (range === 'unsatisfiable') {
      await file.handle.close();
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${file.size}`, 'Content-Length': '0' });
      return void res.end();
    }
    const [start, end] = range ?? [0, file.size - 1];
    const length = end - start + 1;
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${file.size}`;
    res.writeHead(range ? 206 : 200, { ...headers, 'Content-Length': String(length) });
    if (req.method === 'HEAD' || length === 0) {
      await file.handle.close();
      return void res.end();
    }
    // Read on the thread pool, each chunk written when the socket has taken the one before;
    // a client that goes away closes the file.
    const stream = file.handle.createReadStream({ start, end, highWaterMark: READ_CHUNK_BYTES });
    pipeline(stream, res, (error) => {
      if (error && !res.destroyed) ctx.log.warn('serving an upload failed', { id, error });
    });
  }

  /**
   * Answers a refused upload, then reads and discards what the client is still sending
   * (up to a bound) so that it sees the answer rather than a broken pipe.
   */
  function refuse(req: IncomingMessage, res: ServerResponse, status: number, body: object, retryAfterMs?: number): void {
    if (retryAfterMs !== undefined && !res.headersSent) res.setHeader('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
    sendJson(res, status, body);
    let discarded = 0;
    req.removeAllListeners('data');
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > MAX_DISCARD_BYTES) return void req.socket.destroy();
      // A chunk or two per request per turn of the event loop: many refused bodies arriving
      // at once (40 uploads, 90 MB) are read between everyone else's frames, not in one go.
      req.pause();
      setImmediate(() => req.resume());
    });
    req.resume();
  }
}

/** Bytes read before the type and pixel size are decided (a JPEG's frame header can follow its metadata). */
const HEAD_BYTES = 256 * 1024;
/** Bytes read from an upload's file at a time when it is served. */
const READ_CHUNK_BYTES = 64 * 1024;
/** What a refused upload may still send, read and dropped, before its connection is cut. */
const MAX_DISCARD_BYTES = MAX_UPLOAD_BYTES + 1024 * 1024;

/**
 * One range of `Range: bytes=…` as [first, last] byte, clamped to the file; undefined for
 * no header, another unit, several ranges or a header that cannot be read (the whole file
 * is served, as RFC 9110 allows); 'unsatisfiable' when it starts past the end.
 */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : [Math.max(0, size - suffix), size - 1];
  }
  const first = Number(match[1]);
  const last = match[2] === '' ? Infinity : Number(match[2]);
  if (last < first) return undefined;
  if (first >= size) return 'unsatisfiable';
  return [first, Math.min(last, size - 1)];
}

function sendJson(res: ServerResponse, status: number, body: unknown, closeAfter = false): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) };
  // Refusing before the body is read: close the connection rather than read what is left.
  if (closeAfter) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(text);
}
