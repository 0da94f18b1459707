/** The page bench/store.ts opens in Chromium: the open-from-cache bench on the browser's own IndexedDB. */
import { openCachedRoom } from './store-open.js';

(globalThis as { openCachedRoom?: unknown }).openCachedRoom = (count: number) => openCachedRoom(count, indexedDB);
