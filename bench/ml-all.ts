// Every ml figure for each backend side by side: each backend runs in child
// processes of its own (a process has one tfjs backend, and the two must not
// share the cores while measuring), one after the other: generation set up as
// the bot's workers are, training as the trainer is (glibc's thresholds differ).
import { once } from 'node:events';
import { BACKENDS } from '../src/ml/backend-names.js';
import { forkModule, moduleUrl } from '../src/runtime/entry.js';
import { withoutMallocTuning } from '../src/runtime/malloc.js';
import { ONE_TENSORFLOW_THREAD } from '../src/runtime/tensorflow-threads.js';
import type { Row } from './ml.js';

type Reply = { rows: Row[] } | { error: string };

/** Runs bench/ml-backend.ts in a child process with `args` and environment `env`; resolves with its rows, or one row `what` that says why there are none. */
export async function measureIn(args: string[], env: NodeJS.ProcessEnv, what = 'model'): Promise<Row[]> {
  const child = forkModule(moduleUrl('./ml-backend.js', import.meta.url), args, { env });
  const reply = await new Promise<Reply>((resolve) => {
    child.once('message', (m) => resolve(m as Reply));
    child.once('exit', (code, signal) => resolve({ error: `the bench process exited (${signal ?? `code ${code}`})` }));
  });
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  return 'rows' in reply ? reply.rows : [{ what, value: `unavailable: ${reply.error}` }];
}

export async function benchMl(modelsDir = 'models', name = 'shakespeare'): Promise<Record<string, string>[]> {
  const table = new Map<string, Record<string, string>>();
  // The pure-JS cpu backend is a last resort and too slow to be worth minutes here.
  for (const backend of BACKENDS.filter((b) => b !== 'cpu')) {
    // tfjs-node as the bot and replicated training run it (runtime/tensorflow-threads.ts).
    const env = backend === 'tensorflow' ? { ...process.env, ...ONE_TENSORFLOW_THREAD } : process.env;
    const rows = [...(await measureIn([backend, modelsDir, name, 'generation'], env)), ...(await measureIn([backend, modelsDir, name, 'training'], withoutMallocTuning(env), 'training'))];
    for (const { what, value } of rows) table.set(what, { ...(table.get(what) ?? { what }), [backend]: value });
  }
  return [...table.values()];
}
