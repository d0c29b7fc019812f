// Publishing from a real trainer process: the pointer switch is a
// compare-and-swap (an admin's rollback during the run is not overridden: the
// candidate is stored, not made current), and stopping a run while it
// publishes reports what the registry shows.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/ml/backend.js';
import type { RetrainController, RetrainOptions } from '../src/training/controller.js';
import { retrain } from '../src/training/retrain.js';
import type { RunOutcome } from '../src/training/run-records.js';
import { makeLayout, reaches, type Layout } from './helpers/retrain-fixture.js';

let l: Layout;
let swaps = 0;

beforeAll(async () => {
  await initBackend('train');
  l = await makeLayout();
  // v1 and v2, in-process: the runs below have a version to roll back to.
  for (let i = 0; i < 2; i++) expect(await retrain(l.job({ epochs: 1, tolerance: 100 }))).toMatchObject({ outcome: 'published' });
}, 180_000);

afterEach(() => l.closeControllers());
afterAll(() => l?.remove());

// A generous tolerance: these runs are about publishing, not about the gate.
const controller = (over: Partial<RetrainOptions> = {}) => l.controller(async () => void swaps++, { tolerance: 100, ...over });
const pointer = async () => (await l.registry.readPointer(l.name))?.version;

/** Starts a run and calls `during` once it reaches `phase`; resolves with the run's outcome and what `during` returned. */
async function runWith<T>(c: RetrainController, phase: 'training' | 'publishing', during: () => Promise<T>): Promise<{ outcome: RunOutcome; during: T }> {
  const reached = reaches(c, phase);
  const done = c.start({ trigger: 'admin', epochs: 2 });
  await reached;
  const result = await during();
  return { outcome: await done, during: result };
}

describe('publishing a retrain', () => {
  it('stores the candidate without making it current when the pointer moved during the run (an admin rolled back)', async () => {
    const swapsBefore = swaps;
    const { outcome } = await runWith(controller(), 'training', () => l.registry.setCurrent(l.name, 'v1'));
    expect(outcome).toMatchObject({ outcome: 'stored', version: 'v3', servingVersion: 'v2' });
    expect(outcome.reason).toMatch(/; but the current version moved from v2 to v1 during the run, so v3 is stored and not made current$/);
    expect(await pointer()).toBe('v1');
    expect(await l.registry.versions(l.name)).toContain('v3');
    expect(swaps).toBe(swapsBefore);
    // Recorded as such, and it counts as a completed run for the schedule.
    expect((await l.controller(async () => undefined).status()).last).toMatchObject({ outcome: 'stored', version: 'v3' });
    expect(await l.controller(async () => undefined).lastCompletedAt()).toEqual(new Date(outcome.finishedAt));
  }, 180_000);

  it('reports the truth when cancelled, or shut down, while publishing: the version became current', async () => {
    // A short grace, so a stop that does not wait for the publish would signal the trainer mid-publish.
    for (const stop of [(c: RetrainController) => c.cancel('tester'), (c: RetrainController) => c.close().then(() => c.status().then((s) => s.last))]) {
      const c = controller({ cancelGraceMs: 1 });
      const { outcome, during } = await runWith(c, 'publishing', () => stop(c));
      // What the stop answers is the run's outcome.
      expect(during).toEqual(outcome);
      expect(outcome).toMatchObject({ outcome: 'published', version: await pointer() });
      expect(outcome.reason).not.toMatch(/cancel|shutting down/);
    }
  }, 240_000);
});
