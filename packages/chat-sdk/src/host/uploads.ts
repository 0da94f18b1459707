import { ChatError, type Image } from '../protocol/index.js';
import type { UploadLike } from '../contract/platform.js';

/** `ws://host:port/ws` -> `http://host:port/uploads`. */
export function uploadUrlFor(wsUrl: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = '/uploads';
  url.search = '';
  return url.toString();
}

export interface UploadControl {
  /** Aborting it cancels the upload (a discard). */
  signal: AbortSignal;
  /** Bytes sent so far, as the platform reports them; `total` once the server has the image. */
  onProgress(loaded: number, total: number): void;
}

/** POST /uploads (protocol section 8). HTTP failures become ChatErrors with the matching code. */
export async function uploadImage(upload: UploadLike, uploadUrl: string, token: string, image: Blob, control: UploadControl): Promise<Image> {
  let response: Awaited<ReturnType<UploadLike>>;
  try {
    response = await upload({
      url: uploadUrl,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': image.type },
      body: image,
      signal: control.signal,
      onProgress: control.onProgress,
    });
  } catch (cause) {
    if (control.signal.aborted) throw new ChatError('CLOSED', 'the upload was cancelled', { cause });
    throw new ChatError('NETWORK', 'the upload could not reach the server', { cause });
  }
  if (response.ok) {
    const body = (await response.json()) as Image;
    control.onProgress(image.size, image.size);
    return body;
  }
  switch (response.status) {
    case 401:
      throw new ChatError('UNAUTHENTICATED', 'the upload was refused: not signed in');
    case 403:
      throw new ChatError('FORBIDDEN', 'the upload was refused for this origin');
    case 413:
      throw new ChatError('TOO_LARGE', 'the image is too large');
    case 415:
      throw new ChatError('BAD_REQUEST', 'the image type is not accepted or does not match its bytes');
    case 429:
      throw new ChatError('RATE_LIMITED', 'too many uploads');
    default:
      throw new ChatError(response.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', `the upload failed with HTTP ${response.status}`);
  }
}

/**
 * Passes progress on at each new tenth of the total, or when 250 ms passed since the last
 * report and more was sent, and always the end: a handful of events per upload, whatever
 * the platform's own rate, never going back.
 */
export function throttledProgress(report: (loaded: number, total: number) => void, now: () => number = Date.now): (loaded: number, total: number) => void {
  let lastLoaded = -1;
  let lastTenth = -1;
  let lastAt = 0;
  return (loaded, total) => {
    if (loaded <= lastLoaded) return;
    const tenth = Math.floor((loaded * 10) / total);
    const at = now();
    if (loaded < total && tenth === lastTenth && at - lastAt < 250) return;
    lastLoaded = loaded;
    lastTenth = tenth;
    lastAt = at;
    report(loaded, total);
  };
}
