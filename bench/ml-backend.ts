// Child process of benchMl: measures one backend (argv[2]) and sends the rows back.
import type { BackendName } from '../src/ml/backend.js';
import { benchMlOn } from './ml.js';

const [backend, modelsDir, name] = process.argv.slice(2);
try {
  process.send!({ rows: await benchMlOn(backend as BackendName, modelsDir, name) });
} catch (err) {
  process.send!({ error: (err as Error).message.split('\n')[0] });
}
process.disconnect();
