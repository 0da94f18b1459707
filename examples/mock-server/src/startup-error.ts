/**
 * The one line `npm run server` (and `npm start`) prints when the server cannot start:
 * what went wrong and which variable changes it, never a stack trace.
 */
export function startupErrorLine(error: unknown, settings: { port: number; host: string; db: string }): string {
  const e = (error ?? {}) as { code?: unknown; syscall?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const syscall = typeof e.syscall === 'string' ? e.syscall : '';
  const message = firstLine(typeof e.message === 'string' ? e.message : String(error));
  const { port, host, db } = settings;

  if (syscall === 'listen') {
    if (code === 'EADDRINUSE') return `port ${port} on ${host} is taken (another server running?); set PORT to a free port, or PORT=0 to pick one`;
    if (code === 'EACCES') return `not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges); set PORT to a port above 1023, or PORT=0 to pick one`;
    if (code === 'EADDRNOTAVAIL') return `HOST=${host} is not an address of this machine; set HOST to one of its addresses (default 127.0.0.1)`;
  }
  if (syscall === 'getaddrinfo') return `HOST=${host} is not a known host name (${code}); set HOST to an address of this machine (default 127.0.0.1)`;
  if (syscall === 'mkdir') return `cannot create the folder for CHAT_DB=${db}: ${fsReason(code, message)}; set CHAT_DB to a writable path (or :memory:)`;
  if (code.startsWith('SQLITE_')) {
    if (code === 'SQLITE_NOTADB') return `CHAT_DB=${db} is not a SQLite database; set CHAT_DB to a new or SQLite file (or :memory:)`;
    if (code.startsWith('SQLITE_CANTOPEN')) return `cannot open CHAT_DB=${db} (a folder that cannot be written, or a folder at that path?); set CHAT_DB to a writable file path (or :memory:)`;
    if (code.startsWith('SQLITE_READONLY')) return `CHAT_DB=${db} is read-only; set CHAT_DB to a writable file path (or :memory:)`;
    return `cannot use CHAT_DB=${db}: ${message} (${code})`;
  }
  if (code === 'ERR_MODULE_NOT_FOUND' && message.includes('@chat/sdk')) return 'the server imports @chat/sdk from its build, which is missing: run `npm run build` at the repository root';
  return `failed to start: ${message}`;
}

function fsReason(code: string, message: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EEXIST':
    case 'ENOTDIR':
      return 'a file is in the way';
    case 'EROFS':
      return 'read-only file system';
    default:
      return message;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
