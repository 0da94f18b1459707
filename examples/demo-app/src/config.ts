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
