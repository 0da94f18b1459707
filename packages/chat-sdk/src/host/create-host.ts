import { ChatError } from '../protocol/index.js';
import type { HostConfig } from '../contract/host-options.js';
import { type FetchLike, type WebSocketConstructor, globalWebSocket } from '../contract/platform.js';
import type { ChatStorage } from '../storage/types.js';
import { type Backoff, exponentialBackoff } from './backoff.js';
import { ChatHost } from './chat-host.js';
import { platformUpload } from './platform-upload.js';

/** What a host needs from where it runs; each defaults to the global of that place. */
export interface HostPlatform {
  WebSocket?: WebSocketConstructor | undefined;
  fetch?: FetchLike | undefined;
  /** A custom backoff (in a tab only: functions cannot cross to a shared host). */
  backoff?: Backoff | undefined;
}

/** The one way a connection host is made, in a tab, a SharedWorker or a leader tab. */
export function createHost(config: HostConfig, storage: ChatStorage, platform: HostPlatform = {}): ChatHost {
  const WebSocket = platform.WebSocket ?? globalWebSocket();
  if (!WebSocket) throw new ChatError('BAD_REQUEST', 'no WebSocket in this environment: pass options.WebSocket (in Node, the `ws` package)');
  const fetchImpl = platform.fetch ?? (globalThis as { fetch?: FetchLike }).fetch;
  return new ChatHost({
    url: config.url,
    WebSocket,
    fetch: fetchImpl ?? (() => Promise.reject(new ChatError('BAD_REQUEST', 'no fetch in this environment: pass options.fetch to send images'))),
    // A fetch passed in is used as given; otherwise the platform's upload with progress.
    upload: platformUpload(platform.fetch),
    storage,
    backoff: platform.backoff ?? exponentialBackoff(config.backoffOptions ?? {}),
    ...(config.requestTimeoutMs !== undefined ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
    ...(config.pingIntervalMs !== undefined ? { pingIntervalMs: config.pingIntervalMs } : {}),
    ...(config.uploadUrl !== undefined ? { uploadUrl: config.uploadUrl } : {}),
  });
}
