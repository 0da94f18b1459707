/**
 * The authorization matrix: every action tried by someone who may not do it (no sign-in,
 * not a member, someone else's or unknown ids, a revoked token), each expected to be refused
 * with the code docs/protocol.md names. Where the protocol says a field is ignored (a
 * `senderId` in `create_message`), the check is that it was ignored.
 */
import { startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { Wire } from '../lib/wire.js';

export interface AuthzRow {
  who: string;
  action: string;
  expected: string;
  got: string;
  ok: boolean;
}

export async function authorizationMatrix(): Promise<AuthzRow[]> {
  const server = await startServer({ ...TEST_SERVER_OPTIONS });
  const rows: AuthzRow[] = [];
  const wires: Wire[] = [];
  try {
    const signIn = async (email: string) => {
      const w = await Wire.open(server.wsUrl);
      wires.push(w);
      await w.call('create_user', { email });
      const reply = await w.call('create_connection', { protocolVersion: 1, email });
      return { wire: w, user: reply.user as { id: string }, token: reply.token as string };
    };
    const alice = await signIn('alice@authz.test');
    const bob = await signIn('bob@authz.test');
    const carol = await signIn('carol@authz.test');
    const { room } = await alice.wire.call('create_room', { memberIds: [bob.user.id] });
    const { message } = await alice.wire.call('create_message', { roomId: room.id, clientId: 'a1', text: 'hi bob' });

    const check = async (who: string, wire: Wire, action: string, data: unknown, expected: string, label = action) => {
      const reply = await wire.request(action, data);
      const got = reply.ok ? 'ok' : (reply.error?.code ?? '?');
      rows.push({ who, action: label, expected, got, ok: got === expected });
      return reply;
    };

    // Not signed in: only create_user, create_connection and ping are allowed.
    const anonymous = await Wire.open(server.wsUrl);
    wires.push(anonymous);
    const who = 'not signed in';
    await check(who, anonymous, 'get_users', { query: 'a' }, 'UNAUTHENTICATED');
    await check(who, anonymous, 'get_users', { ids: [alice.user.id] }, 'UNAUTHENTICATED', 'get_users { ids }');
    await check(who, anonymous, 'get_user_rooms', {}, 'UNAUTHENTICATED');
    await check(who, anonymous, 'create_room', { memberIds: [alice.user.id] }, 'UNAUTHENTICATED');
    await check(who, anonymous, 'create_message', { roomId: room.id, clientId: 'x1', text: 'hello' }, 'UNAUTHENTICATED');
    await check(who, anonymous, 'get_messages', { roomId: room.id }, 'UNAUTHENTICATED');
    await check(who, anonymous, 'delete_connection', {}, 'UNAUTHENTICATED');
    await check(who, anonymous, 'create_connection', { protocolVersion: 1, token: 'made-up-token' }, 'UNAUTHENTICATED', 'create_connection { made-up token }');
    await check(who, anonymous, 'create_connection', { protocolVersion: 1, email: 'nobody@authz.test' }, 'NOT_FOUND', 'create_connection { unknown email }');

    // Signed in, but not a member of the room.
    const outsider = 'not a member (carol)';
    await check(outsider, carol.wire, 'create_message', { roomId: room.id, clientId: 'c1', text: 'let me in' }, 'FORBIDDEN');
    await check(outsider, carol.wire, 'get_messages', { roomId: room.id }, 'FORBIDDEN');
    await check(outsider, carol.wire, 'get_messages', { roomId: room.id, after: 0 }, 'FORBIDDEN', 'get_messages { after }');
    await check(outsider, carol.wire, 'get_messages', { roomId: room.id, before: 2 }, 'FORBIDDEN', 'get_messages { before }');
    const rooms = await carol.wire.call('get_user_rooms', {});
    rows.push({
      who: outsider,
      action: 'get_user_rooms (lists the room?)',
      expected: 'not listed',
      got: rooms.rooms.some((r: { id: string }) => r.id === room.id) ? 'listed' : 'not listed',
      ok: !rooms.rooms.some((r: { id: string }) => r.id === room.id),
    });

    // Someone else's ids, or ids that do not exist.
    const others = "others' or unknown ids";
    await check(others, carol.wire, 'create_message', { roomId: 'no-such-room', clientId: 'c2', text: 'x' }, 'NOT_FOUND', 'create_message { unknown roomId }');
    await check(others, carol.wire, 'get_messages', { roomId: 'no-such-room' }, 'NOT_FOUND', 'get_messages { unknown roomId }');
    await check(others, carol.wire, 'create_room', { memberIds: ['no-such-user'] }, 'NOT_FOUND', 'create_room { unknown member }');
    // alice's clientId from carol is carol's own key: a new message, refused because carol is not a member.
    await check(others, carol.wire, 'create_message', { roomId: room.id, clientId: 'a1', text: 'as alice?' }, 'FORBIDDEN', "create_message { alice's clientId, alice's room }");
    const spoof = await check(
      others,
      bob.wire,
      'create_message',
      { roomId: room.id, clientId: 'b1', text: 'as alice?', senderId: alice.user.id },
      'ok',
      'create_message { senderId: alice } by bob',
    );
    rows.push({
      who: others,
      action: '... stored as sent by',
      expected: 'bob',
      got: spoof.data?.message?.senderId === bob.user.id ? 'bob' : spoof.data?.message?.senderId === alice.user.id ? 'alice' : String(spoof.data?.message?.senderId),
      ok: spoof.data?.message?.senderId === bob.user.id,
    });
    // A repeat of alice's clientId by bob is not alice's message (the key is per sender).
    const repeat = await bob.wire.call('create_message', { roomId: room.id, clientId: 'a1', text: 'mine' });
    rows.push({
      who: others,
      action: "create_message { alice's clientId } by bob",
      expected: 'a new message of bob',
      got: repeat.message.id !== message.id && repeat.message.senderId === bob.user.id ? 'a new message of bob' : "alice's message",
      ok: repeat.message.id !== message.id && repeat.message.senderId === bob.user.id,
    });

    // A revoked session's token.
    const bobAgain = await Wire.open(server.wsUrl);
    wires.push(bobAgain);
    await bob.wire.call('delete_connection', {});
    await check('revoked token', bobAgain, 'create_connection', { protocolVersion: 1, token: bob.token }, 'UNAUTHENTICATED', 'create_connection { logged-out token }');

    // Uploads over HTTP: a token is required.
    const upload = async (label: string, headers: Record<string, string>, expected: string) => {
      const response = await fetch(`${server.httpUrl}/uploads`, {
        method: 'POST',
        headers: { 'Content-Type': 'image/png', ...headers },
        body: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      });
      await response.arrayBuffer();
      rows.push({ who: label, action: 'POST /uploads', expected, got: `HTTP ${response.status}`, ok: `HTTP ${response.status}` === expected });
    };
    await upload('not signed in', {}, 'HTTP 401');
    await upload('made-up token', { Authorization: 'Bearer made-up-token' }, 'HTTP 401');
    await upload('revoked token', { Authorization: `Bearer ${bob.token}` }, 'HTTP 401');
  } finally {
    for (const w of wires) w.close();
    await server.close();
  }
  return rows;
}
