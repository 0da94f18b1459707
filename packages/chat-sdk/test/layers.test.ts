/**
 * The layering rule of packages/chat-sdk/src (docs/architecture.md, "Layers"): a file imports only its own layer
 * or lower ones, host and client halves never import each other, no cycles, and every file sits in a layer.
 *
 * 1. Layers, lowest first. A file may import only from its own layer or lower layers, except where a rule below says otherwise:
 *    - L0 `protocol/**`
 *    - L1 `storage/**`
 *    - L2 `contract/**` (the shared contract: message model, host commands/events/snapshots, connection state, session, platform stand-ins, image checks, seq runs)
 *    - L3a `host/**` and L3b `client/**`: both are layer 3 but NEITHER may import the other (host ↛ client, client ↛ host).
 *    - Feature slices `features/<name>/host.ts` count as L3a (host) and `features/<name>/client.ts` as L3b (client); any other file in `features/<name>/` counts as L2 (shared by both halves). A host part may not import a client part and vice versa.
 *    - L4 `link/**` (the links between a tab and its host, and the hub that serves tabs) and the root file `spawn-worker.ts` (it must sit beside worker.ts for `new URL('./worker.js', import.meta.url)`; count it as L4).
 *    - L5 the composition roots: `index.ts`, `node.ts`, `in-tab.ts`, `worker.ts`, `create-chat-client.ts` at the src root.
 *    - `protocol/**` imports nothing outside protocol/ (it is published as `@chat/sdk/protocol` and used by the server).
 * 2. No file cycle anywhere in src, and no folder cycle (each top-level folder, root file, and feature part).
 * 3. A src file the table does not cover fails with "unplaced file: …, add it to a layer".
 *
 * Edges: relative `import`, `import type`, `export … from`, `import()` (ts.preProcessFile skips comments and
 * strings; `new URL(…)` is no import). `*.test.ts` files are skipped. Rule 1's last line follows from L0 being lowest.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { posix, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** file (relative to src, with `/`) -> the src files it imports, resolved the same way. */
type Graph = Record<string, string[]>;
interface Layer { name: string; rank: number }
const layer = (name: string, rank: number): Layer => ({ name, rank });
const [L2, L3a, L3b, L4, L5] = [layer('L2 contract', 2), layer('L3a host', 3), layer('L3b client', 3), layer('L4 link', 4), layer('L5 root', 5)];
/** Top-level folders (`name/`) and root files; `features/` is placed by layerOf. */
const TABLE = new Map<string, Layer>([
  ['protocol/', layer('L0 protocol', 0)], ['storage/', layer('L1 storage', 1)], ['contract/', L2], ['host/', L3a], ['client/', L3b],
  ['link/', L4], ['spawn-worker.ts', L4], ['index.ts', L5], ['node.ts', L5], ['in-tab.ts', L5], ['worker.ts', L5], ['create-chat-client.ts', L5],
]);

function layerOf(file: string): Layer | undefined {
  const parts = file.split('/');
  if (parts[0] !== 'features') return TABLE.get(parts.length === 1 ? file : `${parts[0]}/`);
  if (parts.length < 3) return undefined; // features/x.ts is in no slice
  return parts.length > 3 ? L2 : parts[2] === 'host.ts' ? L3a : parts[2] === 'client.ts' ? L3b : L2;
}

/** Same layer, or a lower one; L3a and L3b share a rank but are different layers. */
const mayImport = (from: Layer, to: Layer) => to === from || to.rank < from.rank;

/**
 * For folder cycles: a top-level folder, a root file on its own, or one part of a feature
 * (`features/<name>` host, client or shared: the parts sit on different layers).
 */
const folderOf = (file: string) => {
  if (!file.startsWith('features/')) return file.split('/')[0] as string;
  const [, name, base] = file.split('/');
  const part = base === 'host.ts' ? 'host' : base === 'client.ts' ? 'client' : 'shared';
  return `features/${name} (${part})`;
};

/** One shortest cycle per strongly connected component (Tarjan), as a closed list of nodes. */
function cycles(graph: Graph): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size); low.set(v, index.get(v)!); stack.push(v); onStack.add(v);
    for (const w of graph[v] ?? []) {
      if (!(w in graph)) continue;
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc = new Set<string>();
    for (let w = ''; w !== v; ) { w = stack.pop()!; onStack.delete(w); scc.add(w); }
    if (scc.size > 1 || graph[v]!.includes(v)) found.push(shortestLoop(graph, [...scc].sort()[0]!, scc));
  };
  for (const v of Object.keys(graph).sort()) if (!index.has(v)) visit(v);
  return found;
}

function shortestLoop(graph: Graph, start: string, scc: Set<string>): string[] {
  const prev = new Map<string, string>(), queue = [start];
  for (const v of queue) for (const w of graph[v]!) {
    if (w === start) { const path = [start]; for (let u = v; u !== start; u = prev.get(u)!) path.unshift(u); return [start, ...path]; }
    if (scc.has(w) && !prev.has(w)) { prev.set(w, v); queue.push(w); }
  }
  return [start];
}

/** Every broken rule, all at once; [] when the graph follows the rule. */
function violations(graph: Graph): string[] {
  const out: string[] = [], folders: Graph = {};
  for (const file of Object.keys(graph).sort()) {
    const from = layerOf(file), folder = (folders[folderOf(file)] ??= []);
    if (!from) out.push(`unplaced file: ${file}, add it to a layer`);
    for (const to of graph[file]!) {
      if (!(to in graph)) { out.push(`missing file: ${file} -> ${to}`); continue; }
      const target = layerOf(to);
      if (from && target && !mayImport(from, target)) out.push(`${file} -> ${to} (layer ${from.name} may not import layer ${target.name})`);
      if (folderOf(to) !== folderOf(file)) folder.push(folderOf(to));
    }
  }
  for (const c of cycles(graph)) out.push(`file cycle: ${c.join(' -> ')}`);
  for (const c of cycles(folders)) out.push(`folder cycle: ${c.join(' -> ')}`);
  return out;
}

/** The import graph of the non-test .ts files under `src`. */
function readGraph(src = fileURLToPath(new URL('../src/', import.meta.url))): Graph {
  const files = new Set(readdirSync(src, { recursive: true, encoding: 'utf8' }).map((f) => f.split(sep).join('/')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')));
  const resolve = (from: string, spec: string): string => {
    const p = posix.normalize(posix.join(posix.dirname(from), spec));
    return [p.replace(/\.js$/, '.ts'), p, `${p}.ts`, `${p}/index.ts`].find((c) => files.has(c)) ?? p;
  };
  const graph: Graph = {};
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(src + file, 'utf8'), true, true);
    graph[file] = importedFiles.map((i) => i.fileName).filter((s) => s.startsWith('.')).map((s) => resolve(file, s));
  }
  return graph;
}

describe('layers of packages/chat-sdk/src', () => {
  it('flags an import from a lower layer up, protocol/ included', () => {
    const graph = { 'contract/a.ts': ['host/b.ts'], 'host/b.ts': [], 'protocol/p.ts': ['storage/s.ts'], 'storage/s.ts': [] };
    expect(violations(graph)).toEqual([
      'contract/a.ts -> host/b.ts (layer L2 contract may not import layer L3a host)',
      'protocol/p.ts -> storage/s.ts (layer L0 protocol may not import layer L1 storage)',
    ]);
  });

  it('flags host -> client and client -> host, feature slices included', () => {
    const graph = {
      'host/a.ts': ['client/b.ts'], 'client/b.ts': [], 'contract/m.ts': [], 'features/x/model.ts': ['contract/m.ts'],
      'features/x/host.ts': ['features/x/model.ts', 'host/a.ts'], 'features/x/client.ts': ['features/x/host.ts', 'features/x/model.ts'],
    };
    expect(violations(graph)).toEqual([
      'features/x/client.ts -> features/x/host.ts (layer L3b client may not import layer L3a host)',
      'host/a.ts -> client/b.ts (layer L3a host may not import layer L3b client)',
    ]);
  });

  it('reports file cycles and folder cycles', () => {
    const graph = { 'link/a.ts': ['link/b.ts'], 'link/b.ts': ['link/a.ts', 'spawn-worker.ts'], 'spawn-worker.ts': ['link/c.ts'], 'link/c.ts': [] };
    expect(violations(graph)).toEqual(['file cycle: link/a.ts -> link/b.ts -> link/a.ts', 'folder cycle: link -> spawn-worker.ts -> link']);
  });

  it('reports files outside the table and imports of files that do not exist', () => {
    expect(violations({ 'util/x.ts': [], 'features/y.ts': [], 'helpers.ts': ['host/gone.ts'] })).toEqual([
      'unplaced file: features/y.ts, add it to a layer', 'unplaced file: helpers.ts, add it to a layer',
      'missing file: helpers.ts -> host/gone.ts', 'unplaced file: util/x.ts, add it to a layer',
    ]);
  });

  it('holds for the real tree', () => {
    const graph = readGraph(), found = violations(graph);
    expect(graph['index.ts']?.length).toBeGreaterThan(0); // the reader found the tree and its imports
    expect(found, `\n${found.join('\n')}\n`).toEqual([]);
  });
});
