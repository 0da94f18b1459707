// The fenced code blocks of a Markdown page, with what the docs test needs to know about each.

/** Languages whose blocks are checked; every other block (sh, json, text, diagrams) is ignored. */
export const CHECKED_LANGUAGES = ['ts', 'tsx', 'js'] as const;
export type CheckedLanguage = (typeof CHECKED_LANGUAGES)[number];

export interface CodeBlock {
  /** The page, relative to the repository root (`docs/getting-started.md`). */
  file: string;
  /** 1-based line of the opening fence; the code's first line is `line + 1`. */
  line: number;
  /** The fence's language, lower case (`ts`, `tsx`, `sh`, ...; '' when none). */
  lang: string;
  /** `<!-- runnable -->` on the line before the fence: run for real against a fresh server. */
  runnable: boolean;
  /**
   * `<!-- declare ... -->` on the line before the fence: TypeScript put in front of the code
   * when it is typechecked, for identifiers the snippet leaves to the reader (an app's own
   * `App` component, a `toast` function). The marker's body is used verbatim:
   * `<!-- declare function toast(text: string): void; -->`.
   */
  declarations: string | null;
  /** The code, without the fences and without the fence's own indentation. */
  code: string;
}

const OPEN = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)([^`]*)$/;
const MARKER = /^\s*<!--\s*(.*?)\s*-->\s*$/;

/** Every fenced block of `markdown` (CommonMark fences: ``` or ~~~, up to 3 spaces of indentation). */
export function codeBlocks(file: string, markdown: string): CodeBlock[] {
  const lines = markdown.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i]!);
    if (!open) continue;
    const [, indent = '', fence = '', lang = ''] = open;
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end]!)) end++;
    const code = lines
      .slice(i + 1, end)
      .map((line) => line.replace(new RegExp(`^ {0,${indent.length}}`), ''))
      .join('\n');
    const marker = i > 0 ? MARKER.exec(lines[i - 1]!)?.[1] ?? '' : '';
    blocks.push({
      file,
      line: i + 1,
      lang: lang.toLowerCase(),
      runnable: marker === 'runnable',
      declarations: marker.startsWith('declare ') ? marker : null,
      code,
    });
    i = end;
  }
  return blocks;
}

export const isChecked = (block: CodeBlock): block is CodeBlock & { lang: CheckedLanguage } =>
  (CHECKED_LANGUAGES as readonly string[]).includes(block.lang);
