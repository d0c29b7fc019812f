// How model versions are shown: the /model info embed and the admin's list of
// versions. Plain data in, Discord payload pieces out.
import type { APIEmbed } from 'discord.js';
import type { ModelMetadata } from '../../registry/registry.js';
import type { VersionRow } from '../services.js';
import type { LossPoint } from './loss-chart.js';
import { cutText, MESSAGE_LIMIT } from './limits.js';

const utc = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;
const duration = (s: number) => (s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);
const lossText = (m: ModelMetadata) => `${m.valLoss.nats.toFixed(4)} nats/char (${m.valLoss.bitsPerChar.toFixed(3)} bits/char)`;

/** Per-epoch losses from a metrics log, skipping lines without them. */
export function lossPoints(metrics: readonly Record<string, number>[]): LossPoint[] {
  return metrics
    .filter((m) => [m.epoch, m.trainLoss, m.valLoss].every(Number.isFinite))
    .map((m) => ({ epoch: m.epoch, trainLoss: m.trainLoss, valLoss: m.valLoss }));
}

export function modelInfoEmbed(m: ModelMetadata, servingBackend: string, chartFile?: string): APIEmbed {
  const a = m.architecture;
  const t = m.training;
  return {
    title: `${m.name} ${m.version}`,
    description: 'The model answering /shakespeare right now.',
    fields: [
      { name: 'Validation loss', value: lossText(m) },
      { name: 'Trained', value: `${utc(m.createdAt)}; ${t.epochs} epochs in ${duration(t.seconds)} (best: epoch ${t.bestEpoch}, stopped: ${t.stopReason})` },
      { name: 'Corpus', value: `sha256 \`${m.corpus.sha256.slice(0, 16)}\`, ${m.corpus.chars.toLocaleString('en-US')} characters` },
      { name: 'Architecture', value: `${a.layers}-layer LSTM, ${a.units} units, vocabulary of ${a.vocabSize}, dropout ${a.dropout}` },
      { name: 'Backend', value: `trained on ${t.backend}, serving on ${servingBackend}` },
    ],
    timestamp: m.createdAt,
    ...(chartFile ? { image: { url: `attachment://${chartFile}` } } : {}),
  };
}

/** One line per version, newest first, marking the current and the serving one; fits one message. */
export function versionsText(name: string, rows: readonly VersionRow[], current: string | undefined, serving: string | undefined): string {
  const lines = [...rows].reverse().map((row) => {
    const marks = [row.version === current ? 'current' : '', row.version === serving ? 'serving' : ''].filter(Boolean);
    const detail = 'metadata' in row ? `${lossText(row.metadata)}, ${utc(row.metadata.createdAt)}` : `damaged: ${row.problem}`;
    return `**${row.version}** · ${detail}${marks.length ? ` ← ${marks.join(', ')}` : ''}`;
  });
  const text = [`Versions of ${name} (newest first):`, ...lines].join('\n');
  return cutText(text, MESSAGE_LIMIT);
}
