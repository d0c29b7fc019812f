// npm run deploy-commands [-- --force]
// Registers the slash commands in commands/ with Discord: in DISCORD_GUILD_ID
// when set (visible at once), else globally. Writes only when Discord's copy
// differs, unless --force.
import { parseArgs } from 'node:util';
import { DiscordAPIError, REST, Routes, type APIApplication } from 'discord.js';
import { loadCommands } from '../app/command-loader.js';
import { loadConfigOrExit } from '../config.js';
import { syncCommands } from '../discord/registration.js';
import { log, setLogLevel } from '../log.js';

const { values: args } = parseArgs({ options: { force: { type: 'boolean', default: false } }, strict: true });
const config = loadConfigOrExit();
if (!config.DISCORD_TOKEN) {
  process.stderr.write('bardbot: DISCORD_TOKEN is required to register commands (see .env.example)\n');
  process.exit(1);
}
setLogLevel(config.LOG_LEVEL);

const rest = new REST({ api: config.DISCORD_API_URL }).setToken(config.DISCORD_TOKEN);
try {
  const app = (await rest.get(Routes.currentApplication())) as APIApplication;
  const commands = await loadCommands();
  const changed = await syncCommands({
    rest,
    applicationId: app.id,
    guildId: config.DISCORD_GUILD_ID,
    definitions: [...commands.values()].map((c) => c.data.toJSON()),
    force: args.force,
  });
  process.stdout.write(changed.length || args.force ? `registered: ${[...commands.keys()].join(', ')}\n` : 'commands already up to date; nothing written\n');
} catch (err) {
  const rejected = err instanceof DiscordAPIError && err.status === 401;
  log.fatal({ err }, rejected ? 'Discord rejected DISCORD_TOKEN: check the bot token' : `could not register commands: ${(err as Error).message}`);
  process.exit(1);
}
