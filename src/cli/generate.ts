// npm run generate -- --seed "ROMEO:" --length 300 --temperature 0.8
// Prints text from the current (or a given) model version.
import { initBackend } from '../ml/backend.js';
import { generate } from '../ml/generate.js';
import { loadFromRegistry } from '../registry/loader.js';
import { ModelRegistry } from '../registry/registry.js';
import { cliProgram, main, numberArg, type ModelFlags } from './program.js';

const { program } = cliProgram('generate', 'Prints text from the version the bot serves (or another one) to stdout.');
const flags = program
  .option('--version <v>', 'the version to use, e.g. v1 (default: the one the bot serves)')
  .optionsGroup('Sampling:')
  .option('--seed <text>', 'the text starts with it; it primes the LSTM state', '')
  .option('--length <n>', 'characters generated after the seed', numberArg(), 300)
  .option('--temperature <x>', 'sampling temperature: lower is safer, higher is wilder', numberArg(), 0.8)
  .option('--top-k <n>', 'sample among the k likeliest characters only (default: all)', numberArg())
  .option('--top-p <x>', 'sample among the likeliest characters that make up this probability (default: 1)', numberArg())
  .option('--rng-seed <n>', 'makes the output reproducible (default: random)', numberArg())
  .parse()
  .opts<ModelFlags & { seed: string; length: number; temperature: number; topK?: number; topP?: number; rngSeed?: number; version?: string }>();

await main('generate', async () => {
  await initBackend('generate');
  const { ref, decoder, vocab } = await loadFromRegistry(new ModelRegistry(flags.models), flags.name, flags.version);
  const t0 = performance.now();
  const [text] = generate(decoder, vocab, [
    { seed: flags.seed, length: flags.length, temperature: flags.temperature, topK: flags.topK, topP: flags.topP, rngSeed: flags.rngSeed },
  ]);
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(text + '\n');
  process.stderr.write(`-- ${ref.name} ${ref.version}, ${flags.length} chars in ${secs.toFixed(2)} s\n`);
});
