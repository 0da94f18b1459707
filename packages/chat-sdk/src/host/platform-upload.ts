import { ChatError } from '../protocol/index.js';
import type { FetchLike, UploadLike } from '../contract/platform.js';

/**
 * The platform's ways to upload with progress, best first (docs/messages.md, "Uploads"):
 *
 * - `XMLHttpRequest` (a page, a dedicated worker, and Chromium's module SharedWorker):
 *   `upload.onprogress`, the bytes the browser's network stack has sent.
 * - a streamed `fetch` body outside browsers (Node, Deno, Bun): the socket pulls the body
 *   chunk by chunk, so a chunk is counted once the socket took the one before. Browsers
 *   stream request bodies only over HTTP/2 (Chromium refuses them over HTTP/1.1), so a
 *   browser without XHR does not try.
 * - a plain `fetch` (a `fetch` passed in, or a browser context without XHR): 0, then all of
 *   it when the server answers. Nothing in between is invented.
 */
export function platformUpload(fetchImpl: FetchLike | undefined): UploadLike {
  if (fetchImpl) return plainUpload(fetchImpl);
  const g = globalThis as { XMLHttpRequest?: XhrConstructor; fetch?: StreamFetch; document?: unknown; WorkerGlobalScope?: unknown };
  if (typeof g.XMLHttpRequest === 'function') return xhrUpload(g.XMLHttpRequest);
  if (!g.fetch) return () => Promise.reject(new ChatError('BAD_REQUEST', 'no fetch in this environment: pass options.fetch to send images'));
  const browser = g.document !== undefined || g.WorkerGlobalScope !== undefined;
  return browser ? plainUpload(g.fetch as unknown as FetchLike) : streamedUpload(g.fetch);
}

/** The part of XMLHttpRequest used here. */
interface XhrLike {
  readonly status: number;
  readonly responseText: string;
  readonly upload: { onprogress: ((event: { loaded: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Blob): void;
  abort(): void;
}
type XhrConstructor = new () => XhrLike;

type StreamFetch = (
  input: string,
  init: { method: string; headers: Record<string, string>; body: ReadableStream<Uint8Array>; duplex: 'half'; signal: AbortSignal },
) => ReturnType<FetchLike>;

const aborted = () => new ChatError('CLOSED', 'the upload was cancelled');

/** XHR with `upload.onprogress`; `abort()` when the signal fires. */
export function xhrUpload(XHR: XhrConstructor): UploadLike {
  return ({ url, headers, body, signal, onProgress }) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(aborted());
      const xhr = new XHR();
      const abort = () => xhr.abort();
      const done = () => signal.removeEventListener('abort', abort);
      xhr.open('POST', url);
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (event) => onProgress(Math.min(event.loaded, body.size), body.size);
      xhr.onload = () => {
        done();
        const text = xhr.responseText;
        resolve({ ok: xhr.status >= 200 && xhr.status < 300, status: xhr.status, json: async () => JSON.parse(text) as unknown });
      };
      xhr.onerror = () => {
        done();
        reject(new TypeError('the upload failed on the network'));
      };
      xhr.onabort = () => {
        done();
        reject(aborted());
      };
      signal.addEventListener('abort', abort, { once: true });
      onProgress(0, body.size);
      xhr.send(body);
    });
}

/** Bytes per chunk of a streamed body: small enough that no tenth of an image is skipped (from ~160 KB up), at most 64 KiB. */
export const chunkSize = (size: number) => Math.min(64 * 1024, Math.max(16 * 1024, Math.ceil(size / 32)));

/**
 * A streamed body with `duplex: 'half'`. The stream holds nothing ahead (high-water mark 0),
 * so the next chunk is pulled only when the socket took the last one (Node's fetch waits for
 * the socket's 'drain'): what was pulled before is what the socket has.
 */
export function streamedUpload(fetchImpl: StreamFetch): UploadLike {
  return async ({ url, headers, body, signal, onProgress }) => {
    const size = body.size;
    const step = chunkSize(size);
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (!signal.aborted) onProgress(offset, size);
          if (offset >= size) return controller.close();
          const part = new Uint8Array(await body.slice(offset, offset + step).arrayBuffer());
          offset += part.length;
          controller.enqueue(part);
        },
      },
      { highWaterMark: 0 },
    );
    try {
      return await fetchImpl(url, { method: 'POST', headers: { ...headers, 'Content-Length': String(size) }, body: stream, duplex: 'half', signal });
    } catch (error) {
      if (signal.aborted) throw aborted();
      throw error;
    }
  };
}

/** A plain fetch: 0 at the start; the caller reports the end when the server answers. */
export function plainUpload(fetchImpl: FetchLike): UploadLike {
  return async ({ url, headers, body, signal, onProgress }) => {
    onProgress(0, body.size);
    try {
      return await fetchImpl(url, { method: 'POST', headers, body, signal });
    } catch (error) {
      if (signal.aborted) throw aborted();
      throw error;
    }
  };
}
