// The documentation a user lands on from npm: docs/index.md lists every guide, and the
// relative links of the release pages (index, bundlers, changelog, README) lead somewhere.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');

describe('docs', () => {
  it('docs/index.md links every guide in docs/', () => {
    const index = read('docs/index.md');
    const guides = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md') && name !== 'index.md');
    expect(guides.filter((name) => !index.includes(`](${name})`))).toEqual([]);
  });

  it('README links the index, and the release pages have no broken relative links', () => {
    expect(read('README.md')).toContain('](docs/index.md)');
    const broken: string[] = [];
    for (const page of ['docs/index.md', 'docs/bundlers.md', 'CHANGELOG.md', 'README.md']) {
      for (const [, target, anchor] of read(page).matchAll(/\]\(([^)#\s]*)(#[^)\s]*)?\)/g)) {
        if (!target && !anchor) continue;
        if (/^[a-z]+:/.test(target ?? '')) continue;
        const file = target ? join(dirname(page), target) : page;
        if (!existsSync(join(root, file))) {
          broken.push(`${page}: ${target}`);
          continue;
        }
        if (anchor && file.endsWith('.md')) {
          const headings = [...read(file).matchAll(/^#+ (.*)$/gm)].map(([, text]) => slug(text ?? ''));
          if (!headings.includes(anchor.slice(1))) broken.push(`${page}: ${target}${anchor}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it.each([
    ['packages/chat-sdk/src/index.ts', 'docs/api.md'],
    ['packages/chat-react/src/index.ts', 'docs/react.md'],
  ])('every export of %s is named in %s (the API reference is kept by hand)', (entry, page) => {
    const names = [...read(entry).matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)].flatMap((m) =>
      m[1]!.split(',').map((part) => part.replace(/\btype\b/, '').trim().split(/\s+as\s+/).pop()!).filter(Boolean),
    );
    expect(names.length).toBeGreaterThan(10);
    const doc = read(page);
    expect(names.filter((name) => !new RegExp(`\\b${name}\\b`).test(doc))).toEqual([]);
  });
});
