// The /model facade: what is served (with its loss chart), the versions, and
// rollback. Rollback is "point the registry at the version, then serve it",
// reverted when the version cannot be loaded, so a failed rollback changes
// nothing. Charts are rendered once per version: drawing one takes ~100 ms of
// the event loop, which a burst of /model info must not multiply.
import { log } from '../log.js';
import { CorruptVersionError, type ModelRegistry, type VersionRef } from '../registry/registry.js';
import { UserError } from './errors.js';
import { phrase } from './i18n.js';
import { renderLossChart } from './replies/loss-chart.js';
import { lossPoints } from './replies/model-info.js';
import type { Generation, ModelInfo, Models, VersionRow } from './services.js';

export interface ModelsOptions {
  registry: ModelRegistry;
  name: string;
  generator: Pick<Generation, 'serving' | 'backend'>;
  /** Serves the registry's current version now (the source's aspired version). */
  sync(): Promise<VersionRef>;
}

/** Versions whose chart is kept (the serving one and a few rolled back to). */
const CHARTS_KEPT = 4;

export class ModelsFacade implements Models {
  readonly name: string;
  private readonly charts = new Map<string, Promise<Buffer | undefined>>();

  constructor(private readonly opts: ModelsOptions) {
    this.name = opts.name;
  }

  async info(): Promise<ModelInfo | undefined> {
    const { registry, generator } = this.opts;
    const model = generator.serving();
    if (!model) return undefined;
    let chart = this.charts.get(model.version);
    if (!chart) {
      chart = registry.metrics({ ...model, dir: registry.dir(model.name, model.version) }).then((metrics) => {
        const points = lossPoints(metrics);
        return points.length > 0 ? renderLossChart(points, `${model.name} ${model.version}: loss per epoch`) : undefined;
      });
      // A failed render is not kept: the next /model info tries again.
      chart.catch(() => this.charts.delete(model.version));
      this.charts.set(model.version, chart);
      for (const old of this.charts.keys()) if (this.charts.size > CHARTS_KEPT) this.charts.delete(old);
    }
    return { model, backend: generator.backend, chart: await chart };
  }

  async versions(): Promise<{ rows: VersionRow[]; current?: string; serving?: string }> {
    const { registry, generator } = this.opts;
    const names = await registry.versions(this.name);
    const rows = await Promise.all(
      names.map(async (version): Promise<VersionRow> => {
        try {
          return { version, metadata: (await registry.verify(this.name, version)).metadata };
        } catch (err) {
          if (err instanceof CorruptVersionError) return { version, problem: err.message };
          throw err;
        }
      }),
    );
    const pointer = await registry.readPointer(this.name);
    return { rows, current: pointer?.version, serving: generator.serving()?.version };
  }

  async rollback(version: string, by: string): Promise<{ from?: string; to: string }> {
    const { registry, generator, sync } = this.opts;
    if (!(await registry.versions(this.name)).includes(version)) throw new UserError(phrase('unknownVersion', { model: this.name, version }));
    const from = generator.serving()?.version;
    // setCurrent verifies the checksums first: a damaged version is refused with nothing changed.
    await registry.setCurrent(this.name, version);
    try {
      await sync();
    } catch (err) {
      if (from) await registry.setCurrent(this.name, from);
      log.error({ err, version }, 'rollback could not load the version');
      throw new UserError(phrase('rollbackFailed', { model: this.name, version, detail: (err as Error).message, serving: from }));
    }
    log.info({ model: this.name, from, to: version, by }, `rolled back to ${version}`);
    return { from, to: version };
  }
}
