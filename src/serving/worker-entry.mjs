// Worker-thread entry. Node 20 does not apply `--import tsx` to a worker's own
// entry file, so the worker registers tsx itself, then loads the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
