import { ChatError, MAX_UPLOAD_BYTES, isImageMimeType } from '../protocol/index.js';
import { isBlobLike } from './platform.js';

/** Why an image cannot be sent, or undefined when it can: the checks the server would make. */
export function checkImage(image: unknown): ChatError | undefined {
  if (!isBlobLike(image)) return new ChatError('BAD_REQUEST', 'image must be a Blob or File');
  if (!isImageMimeType(image.type)) {
    return new ChatError('BAD_REQUEST', `image type ${image.type || '(none)'} is not one of png, jpeg, gif, webp`);
  }
  if (image.size > MAX_UPLOAD_BYTES) return new ChatError('TOO_LARGE', `image is over ${MAX_UPLOAD_BYTES} bytes`);
  return undefined;
}
