import { codePointLength } from './limits.js';

/**
 * The emoji rule of reactions (docs/protocol.md 10.5), without any schema library so that
 * a page can check a reaction before it goes to the host.
 */

/** An emoji is 1 to this many code points (flags, keycaps, skin tones and ZWJ families fit). */
export const MAX_EMOJI_CODE_POINTS = 16;

const EMOJI_PART = /^(?:\p{Extended_Pictographic}|\p{Emoji_Component}|\p{Emoji_Presentation}|\u200d|\ufe0f|\u20e3)+$/u;
const EMOJI_CORE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

/**
 * One emoji sequence as users type them: only emoji code points, joiners, variation
 * selectors, skin tones, tags and keycaps, with at least one pictograph, flag letter or
 * keycap, 1 to 16 code points. Letters, digits alone, spaces and markup are refused.
 */
export function isEmoji(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0) return false;
  const length = codePointLength(value);
  return length >= 1 && length <= MAX_EMOJI_CODE_POINTS && EMOJI_PART.test(value) && EMOJI_CORE.test(value);
}
