/**
 * The settings of a connection host, declared once: the option types of
 * `createChatClient`, the config a tab sends to a shared host, the key that decides which
 * tabs share one, and the table in docs/getting-started.md (its rows and defaults, checked
 * by a test) all derive from this list; what each does is said once, on `HostSettings`.
 * Every value is plain data, so it can cross to a shared host.
 */
export const HOST_OPTIONS = {
  requestTimeoutMs: { default: 10_000 },
  pingIntervalMs: { default: 25_000 },
  uploadUrl: { default: "the server's `/uploads`" },
  backoffOptions: { default: '`{ baseMs: 500, maxMs: 30000 }`' },
  hostGraceMs: { default: 5_000 },
} as const;

export type HostOptionName = keyof typeof HOST_OPTIONS;

/** The default backoff's numbers (see `exponentialBackoff`). */
export interface BackoffOptions {
  /** First ceiling, in ms; the first retry comes within twice this. Default 500. */
  baseMs?: number;
  /** Largest ceiling, in ms. Default 30 000. */
  maxMs?: number;
}

/** The host settings as `createChatClient` takes them. */
export interface HostSettings {
  /** Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** Idle time before a liveness ping to the server. Default 25 000 ms. */
  pingIntervalMs?: number;
  /** Where images are uploaded. Default the server's `/uploads` beside `url`. */
  uploadUrl?: string;
  /** The numbers of the default backoff (`exponentialBackoff`). Default 500 ms growing to at most 30 s. */
  backoffOptions?: BackoffOptions;
  /** How long a shared host keeps its socket after its last tab of that user went. Default 5 000 ms. */
  hostGraceMs?: number;
}

// Every declared option is a setting and every setting is declared (a compile error otherwise).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const declaredEqualsSettings: Same<HostOptionName, keyof HostSettings> = true;
void declaredEqualsSettings;

/** What a tab tells a shared host: the server, the storage kind and the settings. Plain data. */
export interface HostConfig extends HostSettings {
  url: string;
  storage: 'indexeddb' | 'memory';
}

/** The settings picked out of the client's options: only declared ones, only those given. */
export function hostConfig(url: string, storage: HostConfig['storage'], options: HostSettings): HostConfig {
  const config: HostConfig = { url, storage };
  for (const name of Object.keys(HOST_OPTIONS) as HostOptionName[]) {
    const value = options[name];
    if (value !== undefined) (config as unknown as Record<string, unknown>)[name] = name === 'backoffOptions' ? { ...(value as BackoffOptions) } : value;
  }
  return config;
}
