import type { User } from '@chat/sdk/protocol';
import { newId } from './sessions.js';
import type { AsyncStorage } from './storage/async-storage.js';

/**
 * The sample a fresh database gets with `sample: true` (`npm start` and `npm run server`,
 * unless CHAT_SAMPLE=off), so the first screen has people in it. Listed in docs/server.md.
 */
export const SAMPLE_PEOPLE = [
  { key: 'ada', email: 'ada@example.com', name: 'Ada Lovelace' },
  { key: 'bob', email: 'bob@example.com', name: 'Bob Kahn' },
  { key: 'grace', email: 'grace@example.com', name: 'Grace Hopper' },
  { key: 'linus', email: 'linus@example.com', name: 'Linus Torvalds' },
] as const;

type Person = (typeof SAMPLE_PEOPLE)[number]['key'];

const HOUR = 3_600_000;

/** Rooms in the order they were created; the first member created the room. */
export const SAMPLE_ROOMS: readonly { key: string; name: string | null; members: readonly Person[]; hoursAgo: number }[] = [
  { key: 'team', name: 'Team', members: ['ada', 'bob', 'grace', 'linus'], hoursAgo: 26 },
  { key: 'ada-bob', name: null, members: ['bob', 'ada'], hoursAgo: 9 },
  { key: 'ada-grace', name: null, members: ['grace', 'ada'], hoursAgo: 4 },
];

/** The history, oldest first across all rooms (so the room list's order follows the clock). */
export const SAMPLE_MESSAGES: readonly { room: string; from: Person; hoursAgo: number; text: string }[] = [
  { room: 'team', from: 'ada', hoursAgo: 23, text: 'Morning all! The notes from Tuesday’s design review are in the shared folder.' },
  { room: 'team', from: 'grace', hoursAgo: 22.6, text: 'Thanks, Ada. Found yesterday’s bug, by the way: an actual moth in relay 70. It is taped into the logbook.' },
  { room: 'team', from: 'linus', hoursAgo: 22.2, text: 'Talk is cheap. Show me the patch 😄' },
  { room: 'team', from: 'bob', hoursAgo: 21, text: 'Heads up: the staging network is flaky this afternoon, so reconnects may take a moment.' },
  { room: 'ada-bob', from: 'bob', hoursAgo: 8.5, text: 'Do you have a minute to look at the protocol draft?' },
  { room: 'ada-bob', from: 'ada', hoursAgo: 8.2, text: 'Sure, send it over. Is this the version with a sequence number per room?' },
  { room: 'ada-bob', from: 'bob', hoursAgo: 8, text: 'Yes: no gaps, and catch-up after every reconnect. Comments welcome.' },
  { room: 'team', from: 'ada', hoursAgo: 5, text: 'Lunch on Friday? I’m thinking of the place with the good noodles.' },
  { room: 'team', from: 'grace', hoursAgo: 4.8, text: 'Count me in.' },
  { room: 'team', from: 'linus', hoursAgo: 4.5, text: 'Same here. 12:30?' },
  { room: 'ada-grace', from: 'grace', hoursAgo: 3, text: 'Could you look over my slides for Thursday?' },
  { room: 'ada-grace', from: 'ada', hoursAgo: 2.5, text: 'Happy to. The part on compilers is great; maybe one more example before the demo?' },
  { room: 'ada-bob', from: 'ada', hoursAgo: 1, text: 'Left a few notes in the draft. Looks good to me overall!' },
];

/**
 * Writes the sample through the storage interface (so SQLite and memory both get it),
 * only when the database has no users at all. Returns the emails it created, or none.
 */
export async function seedSample(storage: AsyncStorage, now: number): Promise<string[]> {
  if ((await storage.searchUsers('', null, 1)).length > 0) return [];
  const users = new Map<Person, User>();
  for (const person of SAMPLE_PEOPLE) {
    const user = await storage.createUser({ id: newId('u'), email: person.email, name: person.name, createdAt: now - 30 * HOUR });
    users.set(person.key, user);
  }
  const id = (person: Person) => users.get(person)!.id;
  const rooms = new Map<string, string>();
  for (const room of SAMPLE_ROOMS) {
    const created = await storage.createRoom({
      id: newId('r'),
      name: room.name,
      memberIds: room.members.map(id),
      createdBy: id(room.members[0]!),
      createdAt: Math.round(now - room.hoursAgo * HOUR),
    });
    rooms.set(room.key, created.id);
  }
  for (const [index, message] of SAMPLE_MESSAGES.entries()) {
    await storage.createMessage({
      id: newId('m'),
      roomId: rooms.get(message.room)!,
      senderId: id(message.from),
      clientId: `sample-${index + 1}`,
      text: message.text,
      image: null,
      createdAt: Math.round(now - message.hoursAgo * HOUR),
    });
  }
  return SAMPLE_PEOPLE.map((p) => p.email);
}
