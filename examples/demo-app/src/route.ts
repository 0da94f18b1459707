import { useSyncExternalStore } from 'react';

/** The screen lives in the hash (`#/room/<id>`, `#/new`), so a reload opens the same room. */
export type Route = { name: 'home' } | { name: 'room'; roomId: string } | { name: 'new' };

function parse(hash: string): Route {
  const room = /^#\/room\/([^/]+)$/.exec(hash);
  if (room?.[1]) return { name: 'room', roomId: decodeURIComponent(room[1]) };
  if (hash === '#/new') return { name: 'new' };
  return { name: 'home' };
}

const subscribe = (listener: () => void) => {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => location.hash, () => '');
  return parse(hash);
}

export function navigate(route: Route): void {
  location.hash = route.name === 'room' ? `#/room/${encodeURIComponent(route.roomId)}` : route.name === 'new' ? '#/new' : '';
}
