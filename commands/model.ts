// /model info | versions | rollback. `info` is for everyone. `versions` and
// `rollback` are for admins; Discord's default_member_permissions works per
// top-level command only and members' permissions can be overridden, so admin
// rights are checked here on every run and others get a private refusal.
import { log } from '../src/log.js';
import { CorruptVersionError } from '../src/registry/registry.js';
import { ModelNotLoadedError } from '../src/serving/types.js';
import { renderLossChart } from '../src/discord/chart.js';
import { slashCommand, type Invocation, type Services } from '../src/discord/command.js';
import { UserError } from '../src/discord/errors.js';
import { lossPoints, modelInfoEmbed, versionsText, type VersionRow } from '../src/discord/model-info.js';

const CHART_FILE = 'loss.png';

export const data = slashCommand('model', 'About the model that writes the text')
  .addSubcommand((s) => s.setName('info').setDescription('Version, validation loss, training details and a loss chart'))
  .addSubcommand((s) => s.setName('versions').setDescription('(admins) List every version and which one is current'))
  .addSubcommand((s) =>
    s
      .setName('rollback')
      .setDescription('(admins) Serve another version now')
      .addStringOption((o) => o.setName('version').setDescription('The version to serve, e.g. v2').setRequired(true)),
  );

export async function execute(invocation: Invocation, services: Services): Promise<void> {
  const sub = invocation.subcommand;
  if (sub === 'info') return info(invocation, services);
  if (sub !== 'versions' && sub !== 'rollback') throw new UserError('Use /model info, /model versions or /model rollback.');
  if (!invocation.isAdmin) throw new UserError(`Only members who can manage this server may use /model ${sub}.`);
  return sub === 'versions' ? versions(invocation, services) : rollback(invocation, services);
}

async function info(invocation: Invocation, { generator, registry }: Services): Promise<void> {
  const serving = generator.current();
  if (!serving) throw new ModelNotLoadedError();
  await invocation.defer();
  const metrics = await registry.metrics({ ...serving, dir: registry.dir(serving.name, serving.version) });
  const points = lossPoints(metrics);
  const chart = points.length > 0 ? await renderLossChart(points, `${serving.name} ${serving.version}: loss per epoch`) : undefined;
  await invocation.edit({
    embeds: [modelInfoEmbed(serving.metadata, generator.backend, chart && CHART_FILE)],
    files: chart ? [{ name: CHART_FILE, data: chart, description: 'Training and validation loss per epoch' }] : [],
  });
}

async function versions(invocation: Invocation, { generator, registry, modelName }: Services): Promise<void> {
  await invocation.defer({ ephemeral: true });
  const names = await registry.versions(modelName);
  if (names.length === 0) throw new UserError(`There are no versions of ${modelName} yet.`);
  const rows = await Promise.all(
    names.map(async (version): Promise<VersionRow> => {
      try {
        return { version, metadata: (await registry.verify(modelName, version)).metadata };
      } catch (err) {
        if (err instanceof CorruptVersionError) return { version, problem: err.message };
        throw err;
      }
    }),
  );
  const pointer = await registry.readPointer(modelName);
  await invocation.edit({ content: versionsText(modelName, rows, pointer?.version, generator.current()?.version) });
}

async function rollback(invocation: Invocation, { generator, registry, modelName }: Services): Promise<void> {
  const version = (invocation.options.getString('version') ?? '').trim();
  // Checked before the name is echoed back, so a reply never carries arbitrary text.
  if (!/^v\d+$/.test(version)) throw new UserError('Versions are named like v3; /model versions lists them.');
  await invocation.defer({ ephemeral: true });
  const known = await registry.versions(modelName);
  if (!known.includes(version)) throw new UserError(`There is no ${modelName} ${version}; /model versions lists them.`);
  const before = generator.current()?.version;
  // setCurrent verifies the checksums first: a damaged version is refused with nothing changed.
  await registry.setCurrent(modelName, version);
  try {
    await generator.loadServable();
  } catch (err) {
    if (before) await registry.setCurrent(modelName, before);
    log.error({ err, version }, 'rollback could not load the version');
    throw new UserError(`Could not load ${modelName} ${version}: ${(err as Error).message}. Still serving ${before ?? 'nothing'}.`);
  }
  log.info({ model: modelName, from: before, to: version, by: invocation.user.id }, `rolled back to ${version}`);
  await invocation.edit({ content: `Now serving ${modelName} ${version}${before ? ` (was ${before})` : ''}.` });
}
