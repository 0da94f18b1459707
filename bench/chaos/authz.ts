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
    await check(who, anonymous, 'leave_room', { roomId: room.id, clientId: 'l0' }, 'UNAUTHENTICATED');
    await check(who, anonymous, 'add_members', { roomId: room.id, clientId: 'a0', userIds: [alice.user.id] }, 'UNAUTHENTICATED');
    await check(who, anonymous, 'delete_connection', {}, 'UNAUTHENTICATED');
    await check(who, anonymous, 'mark_read', { roomId: room.id, seq: 1 }, 'UNAUTHENTICATED');
    await check(who, anonymous, 'create_connection', { protocolVersion: 1, token: 'made-up-token' }, 'UNAUTHENTICATED', 'create_connection { made-up token }');
    await check(who, anonymous, 'create_connection', { protocolVersion: 1, email: 'nobody@authz.test' }, 'NOT_FOUND', 'create_connection { unknown email }');

    // Signed in, but not a member of the room.
    const outsider = 'not a member (carol)';
    await check(outsider, carol.wire, 'create_message', { roomId: room.id, clientId: 'c1', text: 'let me in' }, 'FORBIDDEN');
    await check(outsider, carol.wire, 'get_messages', { roomId: room.id }, 'FORBIDDEN');
    await check(outsider, carol.wire, 'get_messages', { roomId: room.id, after: 0 }, 'FORBIDDEN', 'get_messages { after }');
    await check(outsider, carol.wire, 'get_messages', { roomId: room.id, before: 2 }, 'FORBIDDEN', 'get_messages { before }');
    await check(outsider, carol.wire, 'leave_room', { roomId: room.id, clientId: 'l1' }, 'FORBIDDEN');
    await check(outsider, carol.wire, 'add_members', { roomId: room.id, clientId: 'a1', userIds: [carol.user.id] }, 'FORBIDDEN', 'add_members { herself }');
    const rooms = await carol.wire.call('get_user_rooms', {});
    rows.push({
      who: outsider,
      action: 'get_user_rooms (lists the room?)',
      expected: 'not listed',
      got: rooms.rooms.some((r: { id: string }) => r.id === room.id) ? 'listed' : 'not listed',
      ok: !rooms.rooms.some((r: { id: string }) => r.id === room.id),
    });

    // Read state (protocol 10.4): an outsider can neither move a cursor nor see one move.
    await check(outsider, carol.wire, 'mark_read', { roomId: room.id, seq: 1 }, 'FORBIDDEN');
    const listen = async (email: string) => {
      const wire = await Wire.open(server.wsUrl);
      wires.push(wire);
      await wire.call('create_connection', { protocolVersion: 1.1, email });
      const reads: unknown[] = [];
      wire.onFrame = (frame: { type: string; event?: string; data?: unknown }) => {
        if (frame.type === 'event' && frame.event === 'read') reads.push(frame.data);
      };
      return { wire, reads };
    };
    const { wire: carol11, reads: carolReads } = await listen('carol@authz.test');
    const { wire: alice11, reads: aliceReads } = await listen('alice@authz.test');
    await bob.wire.call('mark_read', { roomId: room.id, seq: 1 });
    // Each socket's frames come in order: the read event went out before these replies.
    await alice11.call('ping', {});
    await carol11.call('ping', {});
    rows.push({ who: 'member (alice)', action: "read event of bob's mark_read", expected: 'received', got: aliceReads.length > 0 ? 'received' : 'none', ok: aliceReads.length > 0 });
    rows.push({ who: outsider, action: "read event of bob's mark_read", expected: 'none', got: carolReads.length > 0 ? 'received' : 'none', ok: carolReads.length === 0 });
    const carolRooms = await carol.wire.call('get_user_rooms', {});
    const cursorsLeaked = JSON.stringify(carolRooms).includes(bob.user.id);
    rows.push({ who: outsider, action: 'get_user_rooms (shows cursors of the room?)', expected: 'no', got: cursorsLeaked ? 'yes' : 'no', ok: !cursorsLeaked });

    // Someone else's ids, or ids that do not exist.
    const others = "others' or unknown ids";
    await check(others, carol.wire, 'create_message', { roomId: 'no-such-room', clientId: 'c2', text: 'x' }, 'NOT_FOUND', 'create_message { unknown roomId }');
    await check(others, carol.wire, 'get_messages', { roomId: 'no-such-room' }, 'NOT_FOUND', 'get_messages { unknown roomId }');
    await check(others, carol.wire, 'mark_read', { roomId: 'no-such-room', seq: 1 }, 'NOT_FOUND', 'mark_read { unknown roomId }');
    await check(others, carol.wire, 'create_room', { memberIds: ['no-such-user'] }, 'NOT_FOUND', 'create_room { unknown member }');
    await check(others, carol.wire, 'leave_room', { roomId: 'no-such-room', clientId: 'l2' }, 'NOT_FOUND', 'leave_room { unknown roomId }');
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

    // Typing and presence (protocol 1.1): members and co-members only; a stranger hears nothing.
    await check(who, anonymous, 'typing', { roomId: room.id }, 'UNAUTHENTICATED');
    await check(who, anonymous, 'get_presence', { userIds: [alice.user.id] }, 'UNAUTHENTICATED');
    await check(outsider, carol.wire, 'typing', { roomId: room.id }, 'FORBIDDEN');
    await check(outsider, carol.wire, 'typing', { roomId: room.id, stop: true }, 'FORBIDDEN', 'typing { stop }');
    await check(others, carol.wire, 'typing', { roomId: 'no-such-room' }, 'NOT_FOUND', 'typing { unknown roomId }');
    const strangers = await carol.wire.call('get_presence', { userIds: [alice.user.id, bob.user.id, carol.user.id] });
    const told = (strangers.presence as Array<{ userId: string }>).map((p) => p.userId);
    rows.push({
      who: outsider,
      action: 'get_presence { alice, bob, carol }',
      expected: 'only carol',
      got: told.length === 1 && told[0] === carol.user.id ? 'only carol' : `told ${told.length}`,
      ok: told.length === 1 && told[0] === carol.user.id,
    });
    // carol listens on a 1.1 connection (1.1 events never reach version 1) while alice types and dan comes online.
    const listening = await Wire.open(server.wsUrl);
    wires.push(listening);
    await listening.call('create_connection', { protocolVersion: 1.1, token: carol.token });
    const heard: string[] = [];
    listening.onFrame = (frame) => {
      if (frame.type === 'event') heard.push(frame.event);
    };
    const aliceLive = await Wire.open(server.wsUrl);
    wires.push(aliceLive);
    await aliceLive.call('create_connection', { protocolVersion: 1.1, token: alice.token });
    const dan = await Wire.open(server.wsUrl);
    wires.push(dan);
    const { user: danUser } = await dan.call('create_user', { email: 'dan@authz.test' });
    await alice.wire.call('create_room', { memberIds: [danUser.id] });
    await dan.call('create_connection', { protocolVersion: 1.1, email: 'dan@authz.test' });
    await aliceLive.call('typing', { roomId: room.id });
    await aliceLive.call('typing', { roomId: room.id, stop: true });
    await dan.call('ping', {});
    await listening.call('ping', {}); // what was sent before this reply has arrived
    const leaked = heard.filter((event) => event === 'typing' || event === 'presence');
    rows.push({
      who: outsider,
      action: "typing / presence events of others' rooms",
      expected: 'none',
      got: leaked.length === 0 ? 'none' : leaked.join(', '),
      ok: leaked.length === 0,
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
