// The backend names and the variables that pin them, without tfjs, so that
// src/config.ts can validate them at start (it must not load tfjs or the logger).
export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type Job = 'generate' | 'train';

/** Per-job variables win over BARDBOT_BACKEND, which pins both jobs. */
export const BACKEND_VARS: Record<Job, string> = { generate: 'BARDBOT_GENERATE_BACKEND', train: 'BARDBOT_TRAIN_BACKEND' };

/** The pinned backend for `job`, if any, and the variable that pinned it; throws on a bad value. */
export function pinnedBackend(job: Job, env: NodeJS.ProcessEnv = process.env): { name: BackendName; by: string } | undefined {
  for (const key of [BACKEND_VARS[job], 'BARDBOT_BACKEND']) {
    const value = env[key];
    if (!value) continue;
    if (!(BACKENDS as readonly string[]).includes(value)) throw new Error(`${key} must be one of ${BACKENDS.join(', ')} (got ${JSON.stringify(value)})`);
    return { name: value as BackendName, by: key };
  }
  return undefined;
}

