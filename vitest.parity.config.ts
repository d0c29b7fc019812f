// npm run test:parity: the backend-parity suite on tfjs-node (test/parity/),
// kept out of npm test; it skips with one line where tfjs-node does not load.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/parity/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    // Pins this process, its generation workers and the trainer process to tfjs-node.
    env: { BARDBOT_BACKEND: 'tensorflow', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  },
});
