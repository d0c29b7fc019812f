// The scale-out layout shared by the tests that run replicas against Redis:
// a temporary root with models/ (the registry every replica mounts) and
// data/shakespeare/ (a few KB of the corpus, so a retrain takes seconds), and
// the environment of one HTTP-mode replica talking to the fake Discord.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FakeDiscord } from '../../tools/fake-discord/server.js';

export interface ReplicaLayout {
  root: string;
  models: string;
  data: string;
}

export async function replicaLayout(prefix: string): Promise<ReplicaLayout> {
  const root = await mkdtemp(path.join(tmpdir(), prefix));
  const models = path.join(root, 'models');
  const data = path.join(root, 'data');
  await mkdir(path.join(data, 'shakespeare'), { recursive: true });
  await writeFile(path.join(data, 'shakespeare', 'corpus.txt'), (await readFile(path.resolve('data/shakespeare/tinyshakespeare.txt'), 'utf8')).slice(0, 8000));
  return { root, models, data };
}

/** One replica's settings: HTTP interactions mode, a free HTTP port, the layout's registry and corpus, Redis at `redisPort`. */
export function replicaEnv(layout: ReplicaLayout, fake: FakeDiscord, token: string, redisPort: number): Record<string, string> {
  return {
    DISCORD_MODE: 'http',
    DISCORD_PUBLIC_KEY: fake.publicKey,
    DISCORD_TOKEN: token,
    DISCORD_API_URL: fake.apiUrl,
    DISCORD_GUILD_ID: fake.guildId,
    HTTP_PORT: '0',
    MODELS_DIR: layout.models,
    DATA_DIR: layout.data,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
  };
}

/** The version a replica serves, from its /metrics. */
export async function servedVersion(port: number): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return /bardbot_model_info\{model="shakespeare",version="(v\d+)"\} 1/.exec(text)?.[1];
}

/** A replica's JSON log lines (pino), parsed; other lines skipped. */
export function logLines(output: string): Record<string, unknown>[] {
  return output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}
