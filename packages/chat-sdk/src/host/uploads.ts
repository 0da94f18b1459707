import { ChatError, type Image } from '../protocol/index.js';
import type { FetchLike } from '../contract/platform.js';

/** `ws://host:port/ws` -> `http://host:port/uploads`. */
export function uploadUrlFor(wsUrl: string): string {
  const url = new URL(wsUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = '/uploads';
  url.search = '';
  return url.toString();
}

/** POST /uploads (protocol section 8). HTTP failures become ChatErrors with the matching code. */
export async function uploadImage(fetchImpl: FetchLike, uploadUrl: string, token: string, image: Blob): Promise<Image> {
  let response: Awaited<ReturnType<FetchLike>>;
  try {
    response = await fetchImpl(uploadUrl, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': image.type },
      body: image,
    });
  } catch (cause) {
    throw new ChatError('NETWORK', 'the upload could not reach the server', { cause });
  }
  if (response.ok) {
    const body = (await response.json()) as Image;
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
