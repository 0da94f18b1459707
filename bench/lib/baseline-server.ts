import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * The baseline of the fan-out benchmark: a bare `ws` server doing what any minimal server of
 * the protocol must for `create_message`: give the message an id and its room's next seq,
 * reply to the sender with it, and send the `message_created` event to every member of the
 * room, serialised once. No auth, no storage, no validation beyond JSON: the least a chat
 * server does, on the same library. `{ action: 'join', data: { roomId } }` joins a room;
 * any other frame with `data.roomId` is a message to that room (from a member only).
 */
export async function startBaseline(port = 0): Promise<{ wsUrl: string; port: number; close(): Promise<void> }> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, path: '/ws' });
  const rooms = new Map<string, { members: Set<WebSocket>; lastSeq: number }>();
  let ids = 0;
  wss.on('connection', (ws) => {
    const joined = new Set<string>();
    const userId = `u${++ids}`;
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
        let room = rooms.get(roomId);
        if (!room) rooms.set(roomId, (room = { members: new Set(), lastSeq: 0 }));
        room.members.add(ws);
        joined.add(roomId);
        ws.send(JSON.stringify({ type: 'reply', requestId: frame.requestId, ok: true, data: {} }));
        return;
      }
      const room = rooms.get(roomId);
      if (!room || !joined.has(roomId)) return;
      const { clientId, text } = frame.data;
      const message = { id: `m${++ids}`, roomId, senderId: userId, clientId, seq: ++room.lastSeq, text, image: null, createdAt: Date.now() };
      ws.send(JSON.stringify({ type: 'reply', requestId: frame.requestId, ok: true, data: { message, duplicate: false } }));
      const event = JSON.stringify({ type: 'event', event: 'message_created', data: { message } });
      for (const member of room.members) member.send(event);
    });
    ws.on('close', () => {
      for (const roomId of joined) rooms.get(roomId)?.members.delete(ws);
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
