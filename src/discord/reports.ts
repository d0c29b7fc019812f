// Posts the outcome of every retrain (scheduled, caught up or started by an
// admin) to the report channel, when RETRAIN_REPORT_CHANNEL_ID is set.
import { userMention } from 'discord.js';
import { outcomeText } from '../app/replies/retrain.js';
import { log } from '../log.js';
import type { RetrainController } from '../training/controller.js';

export function reportRetrainOutcomes(
  retrain: Pick<RetrainController, 'on'>,
  poster: { post(channelId: string, content: string): Promise<void> },
  channelId: string,
  modelName: string,
): void {
  retrain.on('finished', (outcome) => {
    poster.post(channelId, outcomeText(modelName, outcome, userMention)).catch((err: Error) => log.error({ err, channelId }, 'could not post the retrain report'));
  });
}
