// Child process of benchMl: measures one backend (argv[2]) and sends the rows
// back; the 5th argument says which: generation, training, or the training
// speed alone.
import type { BackendName } from '../src/ml/backend.js';
import { benchGenerationOn, benchTrainingOn, benchTrainingSpeedOn } from './ml.js';

const BENCHES = { generation: benchGenerationOn, training: benchTrainingOn, 'training-speed': benchTrainingSpeedOn };
const [backend, modelsDir, name, part] = process.argv.slice(2);
try {
  const bench = BENCHES[part as keyof typeof BENCHES];
  process.send!({ rows: await bench(backend as BackendName, modelsDir, name) });
} catch (err) {
  process.send!({ error: (err as Error).message.split('\n')[0] });
}
process.disconnect();
