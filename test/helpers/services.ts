// Real redis-server and nginx on loopback for the scale-out test: each on a
// free port, in a temporary folder, stopped by the test. `missing()` names
// what is not installed (.ci/run installs both from Debian).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { waitFor } from './wait.js';

const NGINX = ['/usr/sbin/nginx', 'nginx'];
const which = (names: string[]) => names.find((n) => spawnSync('sh', ['-c', `command -v ${n}`]).status === 0);

export function missing(): string[] {
  return [which(['redis-server']) ? undefined : 'redis-server', which(NGINX) ? undefined : 'nginx'].filter((x): x is string => x !== undefined);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });

export interface Service {
  port: number;
  /** The server process (e.g. to SIGSTOP it). */
  pid?: number;
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** redis-server on a free port, or on `port` (to restart one on the same address). */
export async function startRedis(port?: number): Promise<Service> {
  port ??= await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor(() => canConnect(port), 10_000, `redis-server on ${port}`, 50);
  return { port, pid: child.pid, stop: () => stopChild(child) };
}

/** nginx with deploy/nginx.conf, rewritten for loopback: listen `port`, the given upstream ports, files under `dir`. */
export async function startNginx(dir: string, upstreams: number[]): Promise<Service> {
  const port = await freePort();
  let conf = await readFile(path.resolve('deploy/nginx.conf'), 'utf8');
  conf = conf.replace(/^(\s*)server bardbot-\d:8080(.*)$/gm, '').replace(/upstream bardbot \{/, `upstream bardbot {\n${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=10s;`).join('\n')}`);
  conf = conf.replace('listen 8080;', `listen 127.0.0.1:${port};`);
  const paths = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${dir}/${k};`).join('\n');
  conf = `daemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\n` + conf.replace('http {', `http {\n${paths}`);
  const file = path.join(dir, 'nginx.conf');
  await writeFile(file, conf);
  const nginx = which(NGINX)!;
  const child = spawn(nginx, ['-c', file, '-p', dir], { stdio: 'ignore' });
  await waitFor(() => canConnect(port), 10_000, `nginx on ${port}`, 50);
  return { port, stop: () => stopChild(child) };
}
