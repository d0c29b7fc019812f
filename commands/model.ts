// /model info | versions | rollback. `info` is for everyone; `versions` and
// `rollback` declare the admin policy (Discord's default_member_permissions
// works per top-level command only, and members' permissions can be
// overridden, so the dispatcher checks it on every run).
import { slashCommand, withDescription, type Invocation, type Subcommand } from '../src/app/command.js';
import { UserError } from '../src/app/errors.js';
import { localizations, phrase, text } from '../src/app/i18n.js';
import { modelInfoEmbed, versionsText } from '../src/app/replies/model-info.js';
import type { Services } from '../src/app/services.js';
import { ModelNotLoadedError } from '../src/serving/types.js';

const CHART_FILE = 'loss.png';

export const data = slashCommand('model', 'modelDescription')
  .addSubcommand((s) => withDescription(s.setName('info'), 'modelInfoDescription'))
  .addSubcommand((s) => withDescription(s.setName('versions'), 'modelVersionsDescription'))
  .addSubcommand((s) =>
    withDescription(s.setName('rollback'), 'modelRollbackDescription').addStringOption((o) =>
      withDescription(o.setName('version').setNameLocalizations(localizations('versionName')), 'versionOption').setRequired(true),
    ),
  );

async function info(invocation: Invocation, { generator, models }: Services): Promise<void> {
  // Checked before acknowledging, so "no model" is a private message.
  if (!generator.serving()) throw new ModelNotLoadedError();
  await invocation.defer();
  const served = await models.info();
  if (!served) throw new ModelNotLoadedError();
  const { model, backend, chart } = served;
  await invocation.edit({
    embeds: [modelInfoEmbed(model.metadata, backend, chart && CHART_FILE)],
    files: chart ? [{ name: CHART_FILE, data: chart, description: text(invocation.locale, 'chartDescription') }] : [],
  });
}

async function versions(invocation: Invocation, { models }: Services): Promise<void> {
  await invocation.defer({ ephemeral: true });
  const { rows, current, serving } = await models.versions();
  if (rows.length === 0) throw new UserError(phrase('noVersions', { model: models.name }));
  await invocation.edit({ content: versionsText(models.name, rows, current, serving) });
}

async function rollback(invocation: Invocation, { models }: Services): Promise<void> {
  const version = (invocation.options.getString('version') ?? '').trim();
  // Checked before the name is echoed back, so a reply never carries arbitrary text.
  if (!/^v\d{1,9}$/.test(version)) throw new UserError(phrase('badVersionName'));
  await invocation.defer({ ephemeral: true });
  const { from, to } = await models.rollback(version, invocation.user.id);
  await invocation.edit({ content: text(invocation.locale, 'nowServing', { model: models.name, version: to, was: from }) });
}

export const subcommands: Record<string, Subcommand> = {
  info: { run: info },
  versions: { policy: { admin: true, guildOnly: true }, run: versions },
  rollback: { policy: { admin: true, guildOnly: true }, run: rollback },
};
