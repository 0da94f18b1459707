/**
 * Text the server stores must read back as it was written. SQLite keeps UTF-8, where a
 * lone surrogate (valid in a JS string, and in JSON as `\ud800`) cannot exist: it would
 * be echoed in the reply as sent and come back from history as U+FFFD. So it becomes
 * U+FFFD before anything stores or echoes it.
 */
export function wellFormed(text: string): string {
  // With the u flag a surrogate pair is one code point, so only lone halves match.
  return text.replace(/[\uD800-\uDFFF]/gu, '\uFFFD');
}

/** White space, format characters (zero-width space, joiners, marks, BOM) and the blank-looking fillers. */
const INVISIBLE = /[\p{White_Space}\p{Cf}\u034F\u115F\u1160\u17B4\u17B5\u2800\u3164\uFFA0]/gu;

/** True when nothing of `text` would show: only spaces, zero-width and other invisible characters. */
export function isBlank(text: string): boolean {
  return text.replace(INVISIBLE, '').length === 0;
}
