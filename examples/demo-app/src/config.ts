/**
 * Where the chat server is. In order: `?server=ws://…` in the page url (the tests use it),
 * a `<meta name="chat-server">` that `npm start` puts into the page it serves, and else
 * the reference server's default port on the page's own host.
 */
export function serverUrl(): string {
  const fromQuery = new URLSearchParams(location.search).get('server');
  if (fromQuery) return fromQuery;
  const fromMeta = document.querySelector<HTMLMetaElement>('meta[name="chat-server"]')?.content;
  if (fromMeta) return fromMeta;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.hostname || '127.0.0.1'}:8787/ws`;
}

/**
 * An image url from the server as the page can load it. A server without a public url
 * (the default) gives upload urls relative to itself (`/uploads/ID`), so they are resolved
 * against the server's http origin, not the page's.
 */
export function imageUrl(url: string): string {
  try {
    const base = new URL(serverUrl());
    base.protocol = base.protocol === 'wss:' ? 'https:' : 'http:';
    return new URL(url, base).href;
  } catch {
    return url;
  }
}
