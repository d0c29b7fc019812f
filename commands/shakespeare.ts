// /shakespeare seed length temperature top_k top_p: writes a passage that
// starts with the seed. Bad input is refused before acknowledging; generation
// runs in the service's worker threads, so the bot's event loop stays free.
import { LIMITS, validateRequest } from '../src/ml/generate.js';
import { Vocabulary } from '../src/ml/vocab.js';
import { ModelNotLoadedError, type GenerateParams } from '../src/serving/types.js';
import { slashCommand, type Invocation, type Services } from '../src/discord/command.js';
import { UserError } from '../src/discord/errors.js';
import { passageReply } from '../src/discord/format.js';

const DEFAULT_LENGTH = 300;
const DEFAULT_TEMPERATURE = 0.8;

export const data = slashCommand('shakespeare', 'Write Shakespeare-like text that starts with your seed')
  .addStringOption((o) => o.setName('seed').setDescription('Text the passage starts with, e.g. ROMEO:').setMaxLength(LIMITS.maxSeedChars))
  .addIntegerOption((o) =>
    o
      .setName('length')
      .setDescription(`Characters to write after the seed (default ${DEFAULT_LENGTH})`)
      .setMinValue(LIMITS.minLength)
      .setMaxValue(LIMITS.maxLength),
  )
  .addNumberOption((o) =>
    o
      .setName('temperature')
      .setDescription(`Randomness: low is safe, high is wild (default ${DEFAULT_TEMPERATURE})`)
      .setMinValue(0.01)
      .setMaxValue(LIMITS.maxTemperature),
  )
  .addIntegerOption((o) => o.setName('top_k').setDescription('Sample only from the k likeliest characters').setMinValue(1))
  .addNumberOption((o) => o.setName('top_p').setDescription('Sample only from the likeliest characters covering this probability').setMinValue(0.01).setMaxValue(1));

export async function execute(invocation: Invocation, services: Services): Promise<void> {
  const { options, user } = invocation;
  const params: GenerateParams = {
    seed: options.getString('seed') ?? '',
    length: options.getInteger('length') ?? DEFAULT_LENGTH,
    temperature: options.getNumber('temperature') ?? DEFAULT_TEMPERATURE,
    topK: options.getInteger('top_k') ?? undefined,
    topP: options.getNumber('top_p') ?? undefined,
  };
  const model = services.generator.current();
  if (!model) throw new ModelNotLoadedError();
  // Checked here as well as by Discord (which a client can bypass) and the service,
  // so a bad request is refused privately before anything public is posted.
  validateRequest(params, new Vocabulary(model.metadata.vocab));
  const wait = services.cooldowns.take(user.id);
  if (wait > 0) throw new UserError(`You asked a moment ago; try again in ${wait} s.`);
  try {
    await invocation.defer();
    const result = await services.generator.generate(params);
    await invocation.edit(passageReply(result.text, `— ${result.model} ${result.version}`, `${result.model}-${result.version}.txt`));
  } catch (err) {
    // A request that failed (queue full, model swapped out) does not count against the cooldown.
    services.cooldowns.release(user.id);
    throw err;
  }
}
