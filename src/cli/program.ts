// What the ML CLIs (train, eval, generate) share: the bot's configuration
// (MODELS_DIR, MODEL_NAME, DATA_DIR, RUNS_DIR from the environment or .env,
// validated as the bot validates it) as the defaults of their flags, numbers
// checked as they are parsed, and every error as one line on stderr with exit
// code 1, never a stack trace. commander prints --help and its own errors.
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';
import { loadConfigOrExit, type Config } from '../config.js';
import { setLogLevel } from '../log.js';

export interface ModelFlags {
  name: string;
  models: string;
  corpus?: string;
}

/** A flag whose default is a configuration variable, shown as such in --help. */
export const fromConfig = (flags: string, help: string, variable: keyof Config, config: Config) =>
  new Option(flags, help).default(config[variable], `${variable}=${String(config[variable])}`);

/**
 * A command named after its npm script, with --name, --models and (with
 * `corpus`) --corpus in a "Model and data" group; options added next join it.
 */
export function cliProgram(script: string, summary: string, { corpus = false } = {}): { program: Command; config: Config } {
  const config = loadConfigOrExit();
  setLogLevel(config.LOG_LEVEL);
  const program = new Command(`npm run ${script} --`)
    .description(summary)
    .optionsGroup('Model and data:')
    .addOption(fromConfig('--name <name>', 'model name in the registry', 'MODEL_NAME', config))
    .addOption(fromConfig('--models <dir>', 'the model registry', 'MODELS_DIR', config));
  if (corpus) {
    // No commander default: it follows --name.
    program.option('--corpus <path>', `a .txt file, or a folder of them (default: DATA_DIR/<name>, ${path.join(config.DATA_DIR, config.MODEL_NAME)})`);
  }
  return { program, config };
}

/** Where --corpus points, or DATA_DIR/<name>. */
export const corpusPath = (flags: ModelFlags, config: Config) => flags.corpus ?? path.join(config.DATA_DIR, flags.name);

/** Parses a flag's value as a number and, with `rule`, checks it; commander reports a bad one with the flag's name. */
export function numberArg(rule?: z.ZodType<number | undefined>): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
    const checked = rule?.safeParse(n);
    if (checked && !checked.success) throw new InvalidArgumentError(checked.error.issues[0].message);
    return n;
  };
}

/** Runs the command; an error ends it as "<script>: <message>" with exit code 1. */
export async function main(script: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    process.stderr.write(`${script}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
