import { cpus } from 'node:os';

export function summary(values: readonly number[]): { p50: number; p99: number; max: number; n: number } {
  if (values.length === 0) return { p50: NaN, p99: NaN, max: NaN, n: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] as number, n: sorted.length };
}

/** Fixed-point for tables: 1234.5 -> "1,234.5" (digits after the point as asked). */
export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const ms = (value: number, digits = 1) => `${fmt(value, digits)} ms`;
export const mib = (bytes: number, digits = 1) => `${fmt(bytes / 1024 / 1024, digits)} MiB`;

/** What the figures were measured on, for the top of each results section. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}, ${process.platform}; ${new Date().toISOString().slice(0, 10)}`;
}

/** A markdown table from a header row and rows. Columns after the first are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`, appending the section if missing. */
export function replaceSection(doc: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const at = doc.indexOf(start);
  const stop = doc.indexOf(end);
  if (at === -1 || stop === -1) return `${doc.trimEnd()}\n\n${block}\n`;
  return doc.slice(0, at) + block + doc.slice(stop + end.length);
}
