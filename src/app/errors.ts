// Errors the user should read, and the one place that turns any failure into a
// short message. Anything unknown is logged and answered generically.
import { GenerationInputError } from '../ml/generate.js';
import { CorruptVersionError } from '../registry/registry.js';
import { ModelLoadingError, ModelNotLoadedError, QueueFullError, WorkerFailedError } from '../serving/types.js';
import { text, type Phrase } from './i18n.js';

/** A failure caused by the request; shown to the user in their language. */
export class UserError extends Error {
  /** The message in a reader's language; `message` is the English one, for logs. */
  readonly localized: Phrase;

  /** A catalog phrase (phrase(key, ...values)), or text shown as is (console mode, which is English). */
  constructor(message: Phrase | string) {
    super(typeof message === 'string' ? message : message('en-US'));
    this.name = 'UserError';
    this.localized = typeof message === 'string' ? () => message : message;
  }
}

/** Discord says the interaction can no longer be answered (it expired). */
export class InteractionExpiredError extends Error {
  constructor(cause: unknown) {
    super('the interaction expired before it was answered', { cause });
    this.name = 'InteractionExpiredError';
  }
}

/**
 * The message for a known failure in `locale`; undefined for a bug or an
 * outage (log it, and answer with the catalog's genericFailure). The details
 * of invalid requests and damaged versions come from the core in English.
 */
export function userMessage(err: unknown, locale: string): string | undefined {
  if (err instanceof UserError) return err.localized(locale);
  if (err instanceof GenerationInputError) return text(locale, 'invalidRequest', { detail: err.message });
  if (err instanceof QueueFullError) return text(locale, 'busy', { seconds: err.retryAfterSec });
  if (err instanceof ModelNotLoadedError) return text(locale, 'noModel');
  if (err instanceof ModelLoadingError) return text(locale, 'modelLoading');
  // The pool restarts the worker; the request is lost, the bot is not.
  if (err instanceof WorkerFailedError) return text(locale, 'workerFailed');
  if (err instanceof CorruptVersionError) return text(locale, 'refused', { detail: err.message });
  return undefined;
}
