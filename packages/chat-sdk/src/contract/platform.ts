/**
 * The parts of the platform the SDK uses (WebSocket, fetch, Blob, Web Locks,
 * BroadcastChannel, page events), as small interfaces: browsers, workers, Node's `ws`,
 * mock-socket and test DOMs all fit, and importing the SDK touches no global.
 */

/** The part of the WebSocket API the SDK uses. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason?: string }) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export const SOCKET_OPEN = 1;

/** The global WebSocket, read only when a socket is made (importing the SDK touches no global). */
export function globalWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

export type FetchLike = (input: string, init: { method: string; headers: Record<string, string>; body: Blob; signal?: AbortSignal }) => Promise<{
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}>;

/**
 * One HTTP upload with progress: the platform's own report of the bytes sent (XHR
 * `upload.onprogress` in a browser, a streamed body pulled by the socket elsewhere), or only
 * 0 and `total` where the platform says nothing in between. Aborting `signal` cancels it.
 */
export interface UploadRequest {
  url: string;
  headers: Record<string, string>;
  body: Blob;
  signal: AbortSignal;
  onProgress(loaded: number, total: number): void;
}

export type UploadLike = (request: UploadRequest) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** A Blob by its shape: test DOMs and workers bring their own Blob classes, so no instanceof. */
export function isBlobLike(value: unknown): value is Blob {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Blob).size === 'number' &&
    typeof (value as Blob).type === 'string' &&
    typeof (value as Blob).arrayBuffer === 'function'
  );
}

/** The part of BroadcastChannel we use, so tests and old runtimes can bring their own. */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  close(): void;
}
export type BroadcastChannelConstructor = new (name: string) => BroadcastChannelLike;

/** The part of the Web Locks API the SDK uses (`navigator.locks`). */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void> | void): Promise<unknown>;
}

/** Where page lifecycle events (pagehide, pageshow, online) are heard: `globalThis` in a page. */
export interface EventTargetLike {
  addEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void;
  removeEventListener(type: string, listener: (event: { persisted?: boolean }) => void): void;
}
