import type { HostEventHandlers, HostLink } from '../../contract/host-api.js';
import { type PresenceMap, presenceKey } from '../../contract/presence.js';
import { type Store, ValueStore } from '../../contract/store.js';

/**
 * The client part of presence, kept tiny (the host does the work): one store per set of
 * ids (compared by value), watched in the host while it has subscribers, set from the
 * host's `presence` events when its value really changed.
 */
export class ClientPresence {
  private readonly stores = new Map<string, WatchedSet>();
  readonly hostEvents: Pick<HostEventHandlers, 'presence'> = {
    presence: ({ key, presence }) => {
      const store = this.stores.get(key);
      if (store && JSON.stringify(store.getSnapshot()) !== JSON.stringify(presence)) store.set(presence);
    },
  };

  constructor(private readonly call: HostLink['call']) {}

  /** Back with a host that may be new (a restarted worker, a new leader tab): watch again what is watched here. */
  resync(): void {
    for (const store of this.stores.values()) store.rewatch();
  }

  store(userIds: readonly string[]): Store<PresenceMap> {
    const key = presenceKey(userIds);
    let store = this.stores.get(key);
    if (!store) this.stores.set(key, (store = new WatchedSet((type) => this.call({ type, key }).catch(() => undefined))));
    return store;
  }
}

/** A set's store: watched in the host from its first subscriber to its last. */
class WatchedSet extends ValueStore<PresenceMap> {
  private watching = false;

  constructor(private readonly watch: (type: 'watchPresence' | 'unwatchPresence') => void) {
    super({});
  }

  /** Watches again while subscribed: the host may be a new one. */
  rewatch(): void {
    if (this.watching) this.watch('watchPresence');
  }

  protected override onSubscribe(): void {
    if (!this.watching) this.watch('watchPresence');
    this.watching = true;
  }

  protected override onUnsubscribe(): void {
    if (this.watching && !this.hasListeners()) this.watch('unwatchPresence');
    this.watching = this.hasListeners();
  }
}
