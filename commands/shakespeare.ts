// /shakespeare seed length temperature top_k top_p: writes a passage that
// starts with the seed, with Again and Continue buttons under it. A seed is
// normalized for the model (a note says what changed); bad input is refused
// before acknowledging; generation runs in the serving workers, so the bot's
// event loop stays free. The buttons carry the settings and the version in
// their ids and read the text from the message, so they need no state and
// keep working across restarts and model swaps.
import { buttonId, slashCommand, withDescription, type Completer, type Invocation, type Policy, type ReplyButton, type Subcommand } from '../src/app/command.js';
import { UserError } from '../src/app/errors.js';
import { localizations, phrase, text } from '../src/app/i18n.js';
import { passageReply, passageText } from '../src/app/replies/passage.js';
import { forgivingSeed } from '../src/app/seeds.js';
import { StreamedEdits } from '../src/app/streaming.js';
import type { Services } from '../src/app/services.js';
import { ENDING_SLACK, LIMITS, type GenerationRequest } from '../src/ml/generate.js';
import type { GenerateResult } from '../src/serving/types.js';

const DEFAULT_LENGTH = 300;
const DEFAULT_TEMPERATURE = 0.8;
const NAME = 'shakespeare';

export const data = slashCommand(NAME, 'shakespeareDescription', 'anywhere')
  .addStringOption((o) =>
    withDescription(o.setName('seed').setNameLocalizations(localizations('seedName')), 'seedOption').setMaxLength(LIMITS.maxSeedChars).setAutocomplete(true),
  )
  .addIntegerOption((o) =>
    withDescription(o.setName('length').setNameLocalizations(localizations('lengthName')), 'lengthOption', { default: DEFAULT_LENGTH })
      .setMinValue(LIMITS.minLength)
      .setMaxValue(LIMITS.maxLength),
  )
  .addNumberOption((o) =>
    withDescription(o.setName('temperature').setNameLocalizations(localizations('temperatureName')), 'temperatureOption', { default: DEFAULT_TEMPERATURE })
      .setMinValue(0.01)
      .setMaxValue(LIMITS.maxTemperature),
  )
  // top_k and top_p keep their names everywhere: they are the sampling terms of art.
  .addIntegerOption((o) => withDescription(o.setName('top_k'), 'topKOption').setMinValue(1))
  .addNumberOption((o) => withDescription(o.setName('top_p'), 'topPOption').setMinValue(0.01).setMaxValue(1));

export const policy: Policy = { cooldown: true };

type Settings = Omit<GenerationRequest, 'seed'>;

/** Settings as button id arguments (an option left out is empty), and back. */
const encode = (s: Settings) => [String(s.length), String(s.temperature), s.topK === undefined ? '' : String(s.topK), s.topP === undefined ? '' : String(s.topP)];
function decode([length, temperature, topK, topP]: readonly string[]): Settings {
  const num = (v: string | undefined) => (v ? Number(v) : undefined);
  return { length: Number(length), temperature: Number(temperature), topK: num(topK), topP: num(topP) };
}

/**
 * The reply for `result` (whose first `seedLength` characters are the seed),
 * with the notes, and buttons that repeat it (Again) or carry it on
 * (Continue, when the message shows it whole).
 */
function passage(invocation: Invocation, result: GenerateResult, seedLength: number, settings: Settings, notes: (string | undefined)[]) {
  const reply = passageReply(result.text, `— ${result.model} ${result.version}`, `${result.model}-${result.version}.txt`, notes.filter((n) => n !== undefined), invocation.locale);
  const args = [result.version, String(seedLength), ...encode(settings)];
  const buttons: ReplyButton[] = [{ id: buttonId(NAME, 'again', ...args), label: text(invocation.locale, 'buttonAgain') }];
  if (reply.whole) buttons.push({ id: buttonId(NAME, 'continue', ...args), label: text(invocation.locale, 'buttonContinue') });
  return { content: reply.content, files: reply.files ?? [], buttons };
}

/** Says so when the version a button was made by is no longer the one writing. */
const versionNote = (invocation: Invocation, was: string, now: string) => (was === now ? undefined : text(invocation.locale, 'versionGone', { was, now }));

/**
 * Validates, acknowledges with a new public message, writes, and answers with
 * the passage. `madeBy`: the version that made the pressed button; `tail`:
 * the seed is the end of a longer text (see forgivingSeed).
 */
export async function writePassage(
  invocation: Invocation,
  { generator }: Services,
  rawSeed: string,
  settings: Settings = { length: DEFAULT_LENGTH, temperature: DEFAULT_TEMPERATURE },
  { madeBy, tail }: { madeBy?: string; tail?: boolean } = {},
): Promise<void> {
  const { seed, note } = forgivingSeed(rawSeed, generator, invocation.locale, { tail });
  // A natural ending: the passage finishes its line or sentence rather than stopping mid-word.
  const params: GenerationRequest = { ...settings, seed, ending: 'line' };
  // Checked here as well as by Discord (which a client can bypass), so a bad
  // request is refused privately before anything public is posted.
  generator.validate(params);
  const result = await streamed(invocation, invocation.defer(), (onText) => generator.generate(params, { onText }));
  await invocation.edit(passage(invocation, result, seed.length, settings, [note, madeBy && versionNote(invocation, madeBy, result.version)]));
}

export async function execute(invocation: Invocation, services: Services): Promise<void> {
  const { options } = invocation;
  await writePassage(invocation, services, options.getString('seed') ?? '', {
    length: options.getInteger('length') ?? DEFAULT_LENGTH,
    temperature: options.getNumber('temperature') ?? DEFAULT_TEMPERATURE,
    topK: options.getInteger('top_k') ?? undefined,
    topP: options.getNumber('top_p') ?? undefined,
  });
}

/** Characters of the text shown while it is written (its end, so the newest lines show). */
const LIVE_CHARS = 1800;

/**
 * `work`'s result once `acknowledged` (the defer) has gone through too.
 * Writing starts while the acknowledgement is on its way rather than after
 * its round trip; either failure is reported only once both have settled, so
 * an error reply never races the defer.
 */
async function afterAcknowledged<T>(acknowledged: Promise<void>, work: Promise<T>): Promise<T> {
  const [ack, result] = await Promise.allSettled([acknowledged, work]);
  if (ack.status === 'rejected') throw ack.reason;
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/**
 * Runs `generate` (from the moment the defer is sent) showing the text as it
 * comes when it takes long enough to matter (see StreamedEdits); the caller
 * makes the final edit.
 */
function streamed(
  invocation: Invocation,
  acknowledged: Promise<void>,
  generate: (onText?: (textSoFar: string) => void) => Promise<GenerateResult>,
  show: (textSoFar: string) => string = (soFar) => soFar,
): Promise<GenerateResult> {
  if (!invocation.live) return afterAcknowledged(acknowledged, generate());
  const writing = text(invocation.locale, 'writing');
  const live = new StreamedEdits(async (textSoFar) => {
    await acknowledged;
    const soFar = show(textSoFar);
    const shown = soFar.length > LIVE_CHARS ? '…' + soFar.slice(-LIVE_CHARS) : soFar;
    return invocation.edit({ content: passageReply(shown, writing, '', [], invocation.locale).content });
  });
  return afterAcknowledged(acknowledged, generate(live.onText)).finally(() => live.finish());
}

/** The pressed message's passage, or a note that it has none. */
function pressedText(invocation: Invocation): string {
  const shown = invocation.press && passageText(invocation.press.message.content);
  if (shown === undefined || shown === null) throw new UserError(phrase('buttonNotPassage'));
  return shown;
}

/** Again: a new passage from the same seed and settings, for whoever pressed. */
async function again(invocation: Invocation, services: Services): Promise<void> {
  const [version = '', seedLength = '', ...settings] = invocation.press?.args ?? [];
  await writePassage(invocation, services, pressedText(invocation).slice(0, Number(seedLength)), decode(settings), { madeBy: version });
}

/**
 * Continue: carries the passage on, primed with its end. The new text is
 * appended in place while the message still shows it whole; else it comes
 * as a new message.
 */
async function carryOn(invocation: Invocation, { generator }: Services): Promise<void> {
  const [version = '', seedLength = '', ...rest] = invocation.press?.args ?? [];
  const settings = decode(rest);
  const before = pressedText(invocation);
  const { seed, note } = forgivingSeed(before, generator, invocation.locale, { tail: true });
  const params: GenerationRequest = { ...settings, seed, ending: 'line' };
  generator.validate(params);
  const acknowledged = invocation.deferUpdate();
  // Shown as it is written only where it will stay: in the pressed message,
  // when the passage and the longest continuation fit there whole.
  const longest = params.length + Math.ceil(params.length * ENDING_SLACK);
  const result =
    before.length + longest <= LIVE_CHARS
      ? await streamed(invocation, acknowledged, (onText) => generator.generate(params, { onText }), (soFar) => before + soFar.slice(seed.length))
      : await afterAcknowledged(acknowledged, generator.generate(params));
  const added = result.text.slice(seed.length);
  const notes = [note, versionNote(invocation, version, result.version)];
  const inPlace = passage(invocation, { ...result, text: before + added }, Number(seedLength), settings, notes);
  if (inPlace.files.length === 0) return invocation.edit(inPlace);
  await invocation.followUp(passage(invocation, { ...result, text: added }, 0, settings, notes));
}

/** Seed suggestions: the corpus's speaker headings that match what was typed. */
export const complete: Completer = async ({ option, value }, { speakers }) => (option === 'seed' ? speakers.suggest(value) : []);

export const buttons: Record<string, Subcommand> = {
  again: { run: again },
  continue: { run: carryOn },
};
