import { ChatError, MAX_TEXT_CHARS, codePointLength } from '../protocol/index.js';
import { checkImage } from '../contract/images.js';

/** What `client.send` takes: a text, an image (a Blob or File of png, jpeg, gif or webp, at most 5 MiB), or both. */
export interface SendInput {
  text?: string;
  image?: Blob | null;
  /** Answers a message of the room: its `id`, or its `clientId` (the quote shows at once from the room's store). */
  replyTo?: string;
}

/** Checks a message before anything is stored, with the codes the server would answer. */
export function checkSendInput(input: unknown): { text: string; image: Blob | null } {
  if (typeof input !== 'object' || input === null) throw new ChatError('BAD_REQUEST', 'send takes { text?, image? }');
  const { text = '', image = null } = input as SendInput;
  if (typeof text !== 'string') throw new ChatError('BAD_REQUEST', 'text must be a string');
  if (codePointLength(text) > MAX_TEXT_CHARS) throw new ChatError('TOO_LARGE', `text is longer than ${MAX_TEXT_CHARS} characters`);
  if (image !== null) {
    const problem = checkImage(image);
    if (problem) throw problem;
  }
  if (text.trim().length === 0 && image === null) throw new ChatError('BAD_REQUEST', 'a message needs a non-blank text or an image');
  return { text, image };
}
