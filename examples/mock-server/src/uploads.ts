import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { MAX_UPLOAD_BYTES, isImageMimeType } from '@chat/sdk/protocol';
import type { ServerContext } from './context.js';
import { readImageInfo } from './image-info.js';
import type { OriginPolicy } from './origins.js';
import type { Upload } from './storage/index.js';

const UPLOAD_PATH = /^\/uploads\/([A-Za-z0-9_-]{1,64})$/;
const SANE_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The HTTP side: `POST /uploads`, `GET /uploads/<id>`, CORS and preflights. POST checks
 * run in the contract's order: origin (403), token (401), type (415), size (413), bytes'
 * signature (415).
 */
export function createHttpHandler(ctx: ServerContext, origins: OriginPolicy, ownAddress: () => string) {
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
        'Access-Control-Allow-Headers': 'Authorization, Content-Type',
        'Access-Control-Max-Age': '600',
      });
      return void res.end();
    }
    if (path === '/uploads' && req.method === 'POST') return upload(req, res);
    const id = UPLOAD_PATH.exec(path)?.[1];
    if (id && (req.method === 'GET' || req.method === 'HEAD')) return download(id, req, res);
    if (path === '/' || path === '/health') return sendJson(res, 200, { ok: true, service: 'chat mock server', ws: '/ws' });
    if (isUploads) return sendJson(res, 405, { error: 'method not allowed' });
    sendJson(res, 404, { error: 'not found' });
  }

  function upload(req: IncomingMessage, res: ServerResponse): void {
    if (!origins.allows(req.headers.origin)) return sendJson(res, 403, { error: 'origin not allowed' }, true);
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    const user = token === undefined ? undefined : ctx.sessions.authorize(token);
    if (!user) return sendJson(res, 401, { error: 'a valid bearer token is required' }, true);
    const mime = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!isImageMimeType(mime)) return sendJson(res, 415, { error: 'Content-Type must be image/png, image/jpeg, image/gif or image/webp' }, true);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_UPLOAD_BYTES) return sendJson(res, 413, { error: 'an upload is at most 5 MiB' }, true);

    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_UPLOAD_BYTES) {
        // Stop keeping bytes past the cap; answer now and close the connection.
        done = true;
        chunks.length = 0;
        sendJson(res, 413, { error: 'an upload is at most 5 MiB' }, true);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      done = true;
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      const bytes = Buffer.concat(chunks, size);
      const info = readImageInfo(bytes);
      if (!info || info.mime !== mime) return sendJson(res, 415, { error: `the bytes are not ${mime}` });
      const id = randomBytes(18).toString('base64url');
      const record: Upload = { id, ownerId: user.id, url: `${baseUrl(req)}/uploads/${id}`, mime, size, bytes, createdAt: ctx.now() };
      if (info.width !== undefined) record.width = info.width;
      if (info.height !== undefined) record.height = info.height;
      try {
        ctx.storage.createUpload(record);
      } catch (error) {
        ctx.log.error('storing an upload failed', { error });
        return sendJson(res, 500, { error: 'internal error' });
      }
      const { url, width, height } = record;
      sendJson(res, 201, { url, mime, size, ...(width === undefined ? {} : { width }), ...(height === undefined ? {} : { height }) });
    });
  }

  function download(id: string, req: IncomingMessage, res: ServerResponse): void {
    const found = ctx.storage.getUpload(id);
    if (!found) return sendJson(res, 404, { error: 'no such upload' });
    res.writeHead(200, {
      'Content-Type': found.mime,
      'Content-Length': String(found.bytes.length),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'public, max-age=31536000, immutable',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'Content-Security-Policy': "default-src 'none'",
    });
    res.end(req.method === 'HEAD' ? undefined : found.bytes);
  }

  /** Upload urls are absolute: the public-url setting, else the request's Host (when it is sane). */
  function baseUrl(req: IncomingMessage): string {
    if (ctx.options.publicUrl) return ctx.options.publicUrl;
    const host = req.headers.host;
    return host && SANE_HOST.test(host) ? `http://${host}` : ownAddress();
  }
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
