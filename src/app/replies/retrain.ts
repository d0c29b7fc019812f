// Retrains in words: a progress line with a text bar, and the outcome with old
// vs new validation loss. `mention` is the adapter's way to name a user
// (Invocation.mention), so no chat syntax lives here.
import type { ActiveRunStatus } from '../../training/controller.js';
import type { RunOutcome } from '../../training/run-records.js';

const BAR_WIDTH = 20;

export function formatDuration(totalSec: number): string {
  const s = Math.max(0, Math.round(totalSec));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function progressBar(fraction: number, width = BAR_WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${Math.floor(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

export type Mention = (userId: string) => string;

const who = (r: { trigger: string; userId?: string }, mention: Mention) => (r.userId ? `${r.trigger}, by ${mention(r.userId)}` : r.trigger);

/** What a running retrain is doing, in two lines. */
export function progressText(modelName: string, run: ActiveRunStatus, mention: Mention): string {
  const head = `Retraining ${modelName} (run ${run.id}, ${who(run, mention)}, budget ${formatDuration(run.maxMinutes * 60)})`;
  const p = run.progress;
  switch (p.phase) {
    case 'starting':
      return `${head}\nStarting the trainer…`;
    case 'evaluating':
      return `${head}\nMeasuring the serving model on the held-out text…`;
    case 'publishing':
      return `${head}\nThe candidate passed the gate; publishing it…`;
    case 'training': {
      const elapsed = p.elapsedSec ?? 0;
      const eta = p.etaSec ?? 0;
      const parts = [
        `epoch ${p.epoch}/${p.epochs}`,
        `loss ${p.loss?.toFixed(3)}`,
        ...(p.valLoss !== undefined ? [`val ${p.valLoss.toFixed(3)}`] : []),
        `${Math.round(p.charsPerSec ?? 0).toLocaleString('en-US')} chars/s`,
        `ETA ${formatDuration(eta)}`,
      ];
      return `${head}\n${progressBar(elapsed / Math.max(1e-9, elapsed + eta))} ${parts.join(' · ')}`;
    }
  }
}

const loss = (n: number | undefined) => (n === undefined ? 'n/a' : n.toFixed(4));

/** How a retrain ended, with old vs new validation loss. */
export function outcomeText(modelName: string, o: RunOutcome, mention: Mention): string {
  const losses = o.newValLoss !== undefined || o.oldValLoss !== undefined ? `; validation loss ${loss(o.oldValLoss)} (${o.servingVersion ?? 'none'}) → ${loss(o.newValLoss)} (candidate)` : '';
  const head = {
    published: `Retrain ${o.id} published ${modelName} ${o.version}, now serving`,
    stored: `Retrain ${o.id} stored ${modelName} ${o.version} without making it current`,
    rejected: `Retrain ${o.id} finished; the candidate was not published`,
    failed: `Retrain ${o.id} failed`,
    cancelled: `Retrain ${o.id} was cancelled; nothing was published`,
  }[o.outcome];
  const start = o.startReason ? ` Training: ${o.startReason}, ${o.epochs} epochs.` : '';
  return `${head}: ${o.reason}${losses}.${start} (${who(o, mention)}, took ${formatDuration(o.seconds)})`;
}
