/**
 * Allowed browser origins. A pattern is an exact origin (`https://chat.example.com`) or
 * one with `*` wildcards: `*` in the port matches any port (and none), `*` elsewhere one
 * or more host characters (`https://*.example.com`). A lone `*` allows every origin.
 * Requests without an `Origin` header (non-browser clients) are always allowed.
 */
export class OriginPolicy {
  private readonly patterns: RegExp[];
  private readonly any: boolean;

  constructor(patterns: readonly string[]) {
    this.any = patterns.includes('*');
    this.patterns = patterns.filter((p) => p !== '*').map(compile);
  }

  /** `undefined` (no Origin header) is allowed; `"null"` (opaque origin) only with `*`. */
  allows(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    if (this.any) return true;
    const normalized = origin.trim().toLowerCase().replace(/\/+$/, '');
    return this.patterns.some((p) => p.test(normalized));
  }
}

export const DEFAULT_ORIGINS = ['http://localhost:*', 'http://127.0.0.1:*'] as const;

function compile(pattern: string): RegExp {
  let source = pattern.trim().toLowerCase().replace(/\/+$/, '');
  const anyPort = source.endsWith(':*');
  if (anyPort) source = source.slice(0, -2);
  const body = source
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[a-z0-9-]+(?:\\.[a-z0-9-]+)*');
  return new RegExp(`^${body}${anyPort ? '(?::\\d{1,5})?' : ''}$`);
}
