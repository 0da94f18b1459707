import { spawnDedicatedWorker, spawnSharedWorker, workerScriptName } from '../spawn-worker.js';
import { CLOSE_WORKER, LINK_PROTOCOL, PORT_TO_WORKER, isHostMessage } from './messages.js';
import type { Connect } from './port-link.js';

export interface WorkerOptions {
  /** 'shared': the origin's SharedWorker, one for every tab; 'dedicated': this tab's own worker. */
  kind: 'shared' | 'dedicated';
  /** The worker's name: for a shared one, which worker every tab of one server url attaches to. */
  name: string;
  workerUrl?: string | URL;
  /** Hears a worker that could not start (a script that failed to load or parse). */
  onError(reason: string): void;
}

/** MessagePorts into one of the SDK's workers, each the channel of one tab; `close` ends a dedicated worker. */
export interface WorkerPorts {
  open(): MessagePort | null;
  close(): void;
}

/**
 * Opens ports into the SDK's worker script. A SharedWorker hands each `new SharedWorker` its
 * own port; a dedicated worker is started once and given one end of a MessageChannel per tab.
 */
export function workerPorts(options: WorkerOptions): WorkerPorts {
  const label = options.kind === 'shared' ? 'SharedWorker' : 'Worker';
  const script = workerScriptName(options.workerUrl);
  const howToFix = options.workerUrl === undefined
    ? 'serve @chat/sdk/worker and pass its url as workerUrl (docs/bundlers.md)'
    : 'check that workerUrl serves @chat/sdk/worker as a JavaScript module (docs/bundlers.md)';
  const onError = (event: Event) => {
    const message = (event as ErrorEvent).message;
    options.onError(`the ${label} ${script} failed to load or start${message ? ` (${message})` : ''}; ${howToFix}`);
  };
  const spawn = <W extends SharedWorker | Worker>(start: () => W): W | null => {
    try {
      const worker = start();
      worker.addEventListener('error', onError);
      return worker;
    } catch (error) {
      // No usable worker url (a CommonJS build has no import.meta.url), or the browser refused.
      const why = error instanceof Error ? error.message : String(error);
      queueMicrotask(() => options.onError(`the ${label} ${script} could not be created (${why}); ${howToFix}`));
      return null;
    }
  };
  if (options.kind === 'shared') {
    return {
      open: () => spawn(() => spawnSharedWorker(options.name, options.workerUrl))?.port ?? null,
      close: () => undefined,
    };
  }
  let worker: Worker | null | undefined;
  return {
    open: () => {
      worker ??= spawn(() => spawnDedicatedWorker(options.name, options.workerUrl));
      if (!worker) return null;
      const channel = new MessageChannel();
      worker.postMessage({ kind: PORT_TO_WORKER }, [channel.port2]);
      return channel.port1;
    },
    // The worker closes its hosts (their sockets say goodbye) and then itself.
    close: () => worker?.postMessage({ kind: CLOSE_WORKER }),
  };
}

/** One tab's link channel over a port of `ports` (a new port on each connect). */
export function workerConnect(ports: WorkerPorts): Connect {
  return (receive) => {
    const port = ports.open();
    if (!port) return { post: () => undefined, close: () => undefined };
    port.addEventListener('message', (event: MessageEvent) => {
      if (isHostMessage(event.data)) receive(event.data);
    });
    port.start();
    return { post: (message) => port.postMessage(message), close: () => port.close() };
  };
}

/**
 * One worker per server url and link protocol: a tab never attaches to a worker that speaks
 * another version of the link (it would not understand its hello), even at the same script url.
 */
export function sharedWorkerName(url: string): string {
  return `chat-sdk:${LINK_PROTOCOL}:${url}`;
}
