import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface SelfTime {
  /** `name (file:line)`, the file relative to the repository. */
  fn: string;
  ms: number;
  share: number;
}

/**
 * Self time by function from a V8 `.cpuprofile`: each sample's time goes to the function on
 * top of the stack then, and the same function reached by different paths is summed.
 */
export function topSelfTime(file: string, top = 10): { totalMs: number; rows: SelfTime[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0; // a sample's time is the gap to the next one
    const node = byNode.get(id);
    if (!node) return;
    total += us;
    const key = label(node.callFrame);
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  });
  const rows = [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, ms: us / 1000, share: us / total }));
  return { totalMs: total / 1000, rows };
}

function label(frame: ProfileNode['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name; // (garbage collector), (program), (idle), natives
  const path = frame.url.replace(/^file:\/\//, '');
  const at = Math.max(path.lastIndexOf('/src/'), path.lastIndexOf('/node_modules/'), path.lastIndexOf('/lib/'));
  const short = at === -1 ? path.split('/').slice(-2).join('/') : path.slice(at + 1);
  return `${name} (${short.replace(/^node_modules\//, '')}:${frame.lineNumber + 1})`;
}
