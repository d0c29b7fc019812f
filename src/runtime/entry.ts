// The one place that decides how a module runs in a worker thread or a child
// process. From source (tests, development: the importing file is .ts) the new
// thread or process needs tsx's loader; from the compiled build (dist/, `npm
// start`) it runs the .js file with plain node. Node 20 does not apply an
// `--import tsx` to a worker's own entry file, so a TypeScript worker starts
// from a small inline script that registers tsx, then imports the module.
import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The URL of the module `specifier` relative to `base` (pass import.meta.url).
 * Write it as imports are written, './worker.js'; it names the .ts file when
 * `base` is itself TypeScript.
 */
export function moduleUrl(specifier: string, base: string): URL {
  const url = new URL(specifier, base);
  if (base.endsWith('.ts')) url.pathname = url.pathname.replace(/\.js$/, '.ts');
  return url;
}

const isTypeScript = (module: URL) => module.pathname.endsWith('.ts');

/** Starts `module` (from moduleUrl) in a worker thread. */
export function startWorker(module: URL, options: WorkerOptions = {}): Worker {
  if (!isTypeScript(module)) return new Worker(module, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/** The node flags a process running `module` (from moduleUrl) needs: tsx's loader for TypeScript, none for compiled JS. */
export function execArgvFor(module: URL): string[] {
  return isTypeScript(module) ? ['--import', import.meta.resolve('tsx')] : [];
}

/** Forks `module` (from moduleUrl) as a child process with an IPC channel. */
export function forkModule(module: URL, args: string[] = [], options: ForkOptions = {}): ChildProcess {
  return fork(fileURLToPath(module), args, { execArgv: execArgvFor(module), ...options });
}
