/**
 * The reference server's sample people (docs/server.md): it creates them, with rooms and
 * history, when it starts on a fresh database, unless `CHAT_SAMPLE=off`. The directory needs
 * a session to ask, so the sign-in form cannot tell whether they exist: it offers them and
 * says so, and a refused sign-in says why.
 */
export const SAMPLE_PEOPLE: ReadonlyArray<{ name: string; email: string }> = [
  { name: 'Ada', email: 'ada@example.com' },
  { name: 'Bob', email: 'bob@example.com' },
  { name: 'Grace', email: 'grace@example.com' },
  { name: 'Linus', email: 'linus@example.com' },
];
