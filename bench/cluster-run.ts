/** `npm run bench:cluster`: the scale-out section alone (part of `npm run bench`), into docs/benchmarks.md. */
import { fileURLToPath } from 'node:url';
import { writeClusterSection } from './cluster.js';

const started = Date.now();
const log = (text: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
await writeClusterSection(fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url)), { quick: process.argv.includes('--quick'), log });
// Lingering sockets of closed clients must not keep the run alive.
process.exit(0);
