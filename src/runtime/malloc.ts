// Whether this process runs with the malloc settings scripts/launch.sh gives
// it (why: see there). glibc reads them only at process start, so all the bot
// can do at run time is say whether they are set, and keep them from a
// process they do not suit.
import { withoutVariables } from './environment.js';

export interface MallocTuning {
  /** The C library is glibc (the variables mean nothing to others). */
  glibc: boolean;
  mmapThreshold: string | undefined;
  trimThreshold: string | undefined;
}

const MMAP_THRESHOLD = 'MALLOC_MMAP_THRESHOLD_';
const TRIM_THRESHOLD = 'MALLOC_TRIM_THRESHOLD_';

export function mallocTuning(env: NodeJS.ProcessEnv = process.env): MallocTuning {
  const { header } = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return { glibc: header?.glibcVersionRuntime !== undefined, mmapThreshold: env[MMAP_THRESHOLD], trimThreshold: env[TRIM_THRESHOLD] };
}

/**
 * `env` for a training process: glibc's own thresholds. Training allocates
 * tensors of the same few sizes every step, which glibc's rising mmap
 * threshold keeps in its arenas; at launch.sh's fixed 4 MB each one is a
 * fresh mmap whose pages fault in, and the replica threads of one process
 * queue on those faults (2x512, 2 replicas at batch 64: 4,194 against 5,742
 * chars/s; one replica at 32 rows: 2,199 against 2,945).
 */
export const withoutMallocTuning = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => withoutVariables(env, [MMAP_THRESHOLD, TRIM_THRESHOLD]);
