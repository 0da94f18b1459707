import type { User } from '../protocol/index.js';
import { ChatError, toChatError } from '../protocol/errors.js';
import { checkUsersQuery } from '../protocol/guards.js';
import type { UsersInput, UsersState } from './chat-client-api.js';
import { type Store, ValueStore } from '../contract/store.js';

export type { UsersInput, UsersState };

const IDLE: UsersState = { users: [], nextCursor: null, loading: false, error: null };
const LOADING: UsersState = { ...IDLE, loading: true };
/** How long an answer nobody shows is kept, so a remount (StrictMode, a tab switch) asks nothing again. */
export const KEEP_MS = 30_000;

type Fetch = (input: UsersInput) => Promise<{ users: User[]; nextCursor: string | null }>;

/** One request as a store: made on the first subscribe, dropped `KEEP_MS` after the last one leaves. */
class UsersStore extends ValueStore<UsersState> {
  private started = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly fetch: () => ReturnType<Fetch>,
    private readonly drop: (store: UsersStore) => void,
  ) {
    super(LOADING);
  }

  protected override onSubscribe(): void {
    clearTimeout(this.timer);
    if (this.started) return;
    this.started = true;
    this.fetch().then(
      ({ users, nextCursor }) => this.set({ users, nextCursor, loading: false, error: null }),
      (error: unknown) => this.set({ ...IDLE, error: toChatError(error) }),
    );
  }

  protected override onUnsubscribe(): void {
    if (this.hasListeners()) return;
    this.timer = setTimeout(() => this.drop(this), KEEP_MS);
    // Node: a kept answer must not hold the process open.
    (this.timer as { unref?: () => void }).unref?.();
  }

  cancel(): void {
    clearTimeout(this.timer);
  }
}

/**
 * The user directory as shared stores: one per (signed-in user, input by value). A store
 * asks once, on its first subscribe (never before), is shared by everyone asking the same
 * thing, and is forgotten 30 s after its last subscriber leaves; `reset` forgets them all.
 */
export class UsersDirectory {
  private readonly stores = new Map<string, UsersStore>();

  constructor(
    private readonly fetch: Fetch,
    private readonly userId: () => string | null,
  ) {}

  /** Throws a ChatError at once for bad input (BAD_REQUEST, naming the field) or when nobody is signed in. */
  store(input: UsersInput = {}): Store<UsersState> {
    const query = checkUsersQuery(input);
    const userId = this.userId();
    if (!userId) throw new ChatError('UNAUTHENTICATED', 'not signed in');
    // The parsed value has its keys in one order and no unknown ones: equal questions share.
    const data = query as UsersInput;
    const key = `${userId} ${JSON.stringify(data)}`;
    let store = this.stores.get(key);
    if (!store) {
      store = new UsersStore(
        () => this.fetch(data),
        (self) => {
          if (this.stores.get(key) === self) this.stores.delete(key);
        },
      );
      this.stores.set(key, store);
    }
    return store;
  }

  /** Forgets every answer (another user signed in); stores already handed out keep theirs. */
  reset(): void {
    for (const store of this.stores.values()) store.cancel();
    this.stores.clear();
  }
}
