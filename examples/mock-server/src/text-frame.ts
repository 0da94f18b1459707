/**
 * A WebSocket text frame as a server sends it (RFC 6455 section 5.2: FIN, opcode 1, no mask,
 * no compression, which the server never negotiates), header and payload in one buffer.
 * A room's event is framed once and the same bytes written to every member's socket, where
 * `ws.send` built a header, two option objects and two writes per socket.
 */
export function textFrame(payload: string | Buffer): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81;
  if (header === 2) {
    frame[1] = length;
  } else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  if (typeof payload === 'string') frame.write(payload, header);
  else payload.copy(frame, header);
  return frame;
}
