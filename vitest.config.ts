import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The tfjs-node parity suite has its own config (vitest.parity.config.ts, npm run test:parity).
    exclude: ['test/parity/**', '**/node_modules/**'],
    // Bounds, not expectations: generous, so a machine busy with another suite
    // slows the tests down without failing them (waits inside are event-driven).
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Files run in separate processes; two at a time matches the 2-core machines.
    maxWorkers: 2,
    // Quiet logs in test output unless asked for (tests that read logs set their own level).
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  },
});
