// Errors the user should read, and the one place that turns any failure into a
// short message. Anything unknown is logged and answered generically.
import { GenerationInputError } from '../ml/generate.js';
import { CorruptVersionError } from '../registry/registry.js';
import { ModelLoadingError, ModelNotLoadedError, QueueFullError } from '../serving/types.js';

/** A failure caused by the request; its message is shown to the user as is. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Discord says the interaction can no longer be answered (it expired). */
export class InteractionExpiredError extends Error {
  constructor(cause: unknown) {
    super('the interaction expired before it was answered', { cause });
    this.name = 'InteractionExpiredError';
  }
}

/** The message for a known failure; undefined for a bug or an outage (log it). */
export function userMessage(err: unknown): string | undefined {
  if (err instanceof UserError) return err.message;
  if (err instanceof GenerationInputError) return `Invalid request: ${err.message}.`;
  if (err instanceof QueueFullError) return `The bard is busy; try again in ${err.retryAfterSec} s.`;
  if (err instanceof ModelNotLoadedError) return 'No model is loaded yet; try again in a minute.';
  if (err instanceof ModelLoadingError) return 'The model is loading; try again in a few seconds.';
  if (err instanceof CorruptVersionError) return `Refused: ${err.message}.`;
  return undefined;
}

export const GENERIC_FAILURE = 'Something went wrong; it has been logged.';
