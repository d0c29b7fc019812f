// Child process of benchMl: measures one backend (argv[2]) and sends the rows
// back; with a 5th argument 'training', only the training speed.
import type { BackendName } from '../src/ml/backend.js';
import { benchMlOn, benchTrainingOn } from './ml.js';

const [backend, modelsDir, name, only] = process.argv.slice(2);
try {
  const bench = only === 'training' ? benchTrainingOn : benchMlOn;
  process.send!({ rows: await bench(backend as BackendName, modelsDir, name) });
} catch (err) {
  process.send!({ error: (err as Error).message.split('\n')[0] });
}
process.disconnect();
