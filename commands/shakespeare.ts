// /shakespeare seed length temperature top_k top_p: writes a passage that
// starts with the seed. Bad input is refused before acknowledging; generation
// runs in the serving workers, so the bot's event loop stays free.
import { slashCommand, type Invocation, type Policy } from '../src/app/command.js';
import { passageReply } from '../src/app/replies/passage.js';
import type { Services } from '../src/app/services.js';
import { LIMITS, type GenerationRequest } from '../src/ml/generate.js';

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

export const policy: Policy = { cooldown: true };

export async function execute(invocation: Invocation, { generator }: Services): Promise<void> {
  const { options } = invocation;
  const params: GenerationRequest = {
    seed: options.getString('seed') ?? '',
    length: options.getInteger('length') ?? DEFAULT_LENGTH,
    temperature: options.getNumber('temperature') ?? DEFAULT_TEMPERATURE,
    topK: options.getInteger('top_k') ?? undefined,
    topP: options.getNumber('top_p') ?? undefined,
  };
  // Checked here as well as by Discord (which a client can bypass), so a bad
  // request is refused privately before anything public is posted.
  generator.validate(params);
  await invocation.defer();
  const result = await generator.generate(params);
  await invocation.edit(passageReply(result.text, `— ${result.model} ${result.version}`, `${result.model}-${result.version}.txt`));
}
