import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * The baseline of the fan-out benchmark: a bare `ws` server that parses each frame as JSON
 * and sends it, as an event, to every member of the room named in it. No auth, no storage,
 * no validation, no reply: the least any chat server must do, on the same library.
 * `{ action: 'join', data: { roomId } }` joins a room; any other frame with `data.roomId` fans out.
 */
export async function startBaseline(port = 0): Promise<{ wsUrl: string; port: number; close(): Promise<void> }> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, path: '/ws' });
  const rooms = new Map<string, Set<WebSocket>>();
  let seq = 0;
  wss.on('connection', (ws) => {
    const joined = new Set<string>();
    ws.on('message', (data) => {
      let frame: any;
      try {
        frame = JSON.parse(String(data));
      } catch {
        return;
      }
      const roomId = frame?.data?.roomId;
      if (typeof roomId !== 'string') return;
      if (frame.action === 'join') {
        let members = rooms.get(roomId);
        if (!members) rooms.set(roomId, (members = new Set()));
        members.add(ws);
        joined.add(roomId);
        ws.send(JSON.stringify({ type: 'reply', requestId: frame.requestId, ok: true, data: {} }));
        return;
      }
      const text = JSON.stringify({ type: 'event', event: 'message_created', data: { message: { ...frame.data, seq: ++seq } } });
      for (const member of rooms.get(roomId) ?? []) member.send(text);
    });
    ws.on('close', () => {
      for (const roomId of joined) rooms.get(roomId)?.delete(ws);
    });
    ws.on('error', () => {});
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const actual = (http.address() as AddressInfo).port;
  return {
    wsUrl: `ws://127.0.0.1:${actual}/ws`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        http.close(() => resolve());
      }),
  };
}
