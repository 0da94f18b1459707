import type { ChatClient, ChatError, Store, User, UsersQuery } from '@chat/sdk';

export type UsersInput = UsersQuery | { ids: string[] };

export interface UsersState {
  readonly users: readonly User[];
  /** Pass it as `cursor` for the next page; null on the last one. */
  readonly nextCursor: string | null;
  readonly loading: boolean;
  readonly error: ChatError | null;
}

export const IDLE: UsersState = { users: [], nextCursor: null, loading: false, error: null };
const LOADING: UsersState = { ...IDLE, loading: true };
/** How long an answer nobody shows is kept, so a remount (StrictMode, a tab switch) asks nothing again. */
const KEEP_MS = 30_000;

/**
 * One `client.users(input)` request as a store. It is made when the first component
 * subscribes (after commit, never during render) and shared by every component asking the
 * same thing, so StrictMode's double mount sends one request.
 */
class UsersQueryStore implements Store<UsersState> {
  private value = LOADING;
  private readonly listeners = new Set<() => void>();
  private started = false;
  private dropTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly client: ChatClient,
    private readonly input: UsersInput,
    private readonly drop: () => void,
  ) {}

  getSnapshot = (): UsersState => this.value;

  subscribe = (listener: () => void): (() => void) => {
    clearTimeout(this.dropTimer);
    this.listeners.add(listener);
    if (!this.started) {
      this.started = true;
      this.client.users(this.input).then(
        ({ users, nextCursor }) => this.set({ users, nextCursor, loading: false, error: null }),
        (error: ChatError) => this.set({ ...IDLE, error }),
      );
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.dropTimer = setTimeout(this.drop, KEEP_MS);
    };
  };

  private set(next: UsersState): void {
    this.value = next;
    for (const listener of [...this.listeners]) listener();
  }
}

const queries = new WeakMap<ChatClient, Map<string, UsersQueryStore>>();

/** The shared store for this question, asked as `userId` (another user gets other answers). */
export function usersQuery(client: ChatClient, userId: string, key: string): UsersQueryStore {
  let byKey = queries.get(client);
  if (!byKey) queries.set(client, (byKey = new Map()));
  const fullKey = `${userId} ${key}`;
  let store = byKey.get(fullKey);
  if (!store) {
    const map = byKey;
    store = new UsersQueryStore(client, JSON.parse(key) as UsersInput, () => map.delete(fullKey));
    byKey.set(fullKey, store);
  }
  return store;
}
