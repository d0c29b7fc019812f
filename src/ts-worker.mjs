// Entry for worker threads whose code is TypeScript. Node 20 does not apply
// `--import tsx` to a worker's own entry file, so the worker registers tsx
// itself, then imports the module named in workerData.module (a file URL).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
