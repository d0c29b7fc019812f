/**
 * The fake's "world": bot user, application, the guild(s) and channels the bot
 * is in, and the record logs tests read. Plain data, no I/O.
 */
import type { APIUser } from 'discord.js';
import { SnowflakeGenerator, type JsonObject } from './util.js';

/** Permission bits used for plausible defaults (see Discord's permission table). */
export const Permission = {
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  UseExternalEmojis: 1n << 18n,
  UseApplicationCommands: 1n << 31n,
  SendMessagesInThreads: 1n << 38n,
  Administrator: 1n << 3n,
  ManageGuild: 1n << 5n,
} as const;

/** What an ordinary member without roles may do (non-admin). */
export const DEFAULT_MEMBER_PERMISSIONS = (
  Permission.AddReactions |
  Permission.ViewChannel |
  Permission.SendMessages |
  Permission.EmbedLinks |
  Permission.AttachFiles |
  Permission.ReadMessageHistory |
  Permission.UseExternalEmojis |
  Permission.UseApplicationCommands |
  Permission.SendMessagesInThreads
).toString();

/** What the bot may do in the channel (sent as `app_permissions`). */
export const DEFAULT_APP_PERMISSIONS = DEFAULT_MEMBER_PERMISSIONS;

export interface FakeChannel {
  id: string;
  name: string;
  guildId: string;
}

/** A DM channel between the bot and one user (Discord keeps one per recipient). */
export interface FakeDmChannel {
  id: string;
  recipientId: string;
}

export interface FakeGuild {
  id: string;
  name: string;
  ownerId: string;
  joinedAt: string;
  channels: FakeChannel[];
}

export interface WorldOptions {
  token: string;
  applicationId?: string;
  botUserId?: string;
  botUsername?: string;
  guildId?: string;
  guildName?: string;
  channelId?: string;
  /** Text channels of the default guild; the first is the default channel. */
  channels?: ReadonlyArray<{ id?: string; name?: string }>;
  /** More guilds the bot is in, each with one text channel (a sharded bot gets each on its shard). */
  guilds?: ReadonlyArray<{ id?: string; name?: string }>;
  /** `shards` in GET /gateway/bot: the shard count Discord recommends (default 1). */
  recommendedShards?: number;
}

export function makeUser(id: string, username: string, bot = false): APIUser {
  return {
    id,
    username,
    global_name: bot ? null : username,
    discriminator: bot ? '0000' : '0',
    avatar: null,
    ...(bot ? { bot: true } : {}),
  };
}

/** Bot identity, application and guilds, fixed at start. */
export class World {
  readonly ids = new SnowflakeGenerator();
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: APIUser;
  readonly guilds = new Map<string, FakeGuild>();
  readonly channels = new Map<string, FakeChannel>();
  readonly dmChannels = new Map<string, FakeDmChannel>();
  readonly defaultGuild: FakeGuild;
  readonly recommendedShards: number;

  constructor(options: WorldOptions) {
    this.token = options.token;
    this.recommendedShards = options.recommendedShards ?? 1;
    this.applicationId = options.applicationId ?? this.ids.next();
    // For bot applications Discord uses the application id as the bot user id.
    this.botUser = makeUser(options.botUserId ?? this.applicationId, options.botUsername ?? 'BardBot', true);
    const guildId = options.guildId ?? this.ids.next();
    const channelInits = options.channels?.length ? options.channels : [{ name: 'general' }];
    const channels = channelInits.map((init, index) => ({
      id: (index === 0 ? (options.channelId ?? init.id) : init.id) ?? this.ids.next(),
      name: init.name ?? `channel-${index}`,
      guildId,
    }));
    this.defaultGuild = {
      id: guildId,
      name: options.guildName ?? 'Globe Theatre',
      ownerId: this.ids.next(),
      joinedAt: new Date().toISOString(),
      channels,
    };
    this.guilds.set(guildId, this.defaultGuild);
    for (const channel of channels) this.channels.set(channel.id, channel);
    for (const [index, init] of (options.guilds ?? []).entries()) {
      const id = init.id ?? this.ids.next();
      const channel = { id: this.ids.next(), name: 'general', guildId: id };
      this.guilds.set(id, { id, name: init.name ?? `Guild ${index + 2}`, ownerId: this.ids.next(), joinedAt: new Date().toISOString(), channels: [channel] });
      this.channels.set(channel.id, channel);
    }
  }

  get defaultChannel(): FakeChannel {
    return this.defaultGuild.channels[0] as FakeChannel;
  }

  /** The DM channel with `userId`, opened on first use, the same one afterwards. */
  dmChannel(userId: string): FakeDmChannel {
    for (const dm of this.dmChannels.values()) if (dm.recipientId === userId) return dm;
    const dm = { id: this.ids.next(), recipientId: userId };
    this.dmChannels.set(dm.id, dm);
    return dm;
  }

  dmChannelObject(dm: FakeDmChannel): JsonObject {
    return { id: dm.id, type: 1, last_message_id: null, flags: 0, recipients: [makeUser(dm.recipientId, `user-${dm.recipientId}`)] };
  }

  channelObject(channel: FakeChannel, position = 0): JsonObject {
    return {
      id: channel.id,
      type: 0, // GUILD_TEXT
      guild_id: channel.guildId,
      name: channel.name,
      position,
      permission_overwrites: [],
      topic: null,
      nsfw: false,
      last_message_id: null,
      rate_limit_per_user: 0,
      parent_id: null,
      flags: 0,
    };
  }

  /** Full GUILD_CREATE payload (discord.js waits for one per guild listed in READY). */
  guildCreatePayload(guild: FakeGuild): JsonObject {
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      icon_hash: null,
      splash: null,
      discovery_splash: null,
      owner_id: guild.ownerId,
      region: 'us-west',
      afk_channel_id: null,
      afk_timeout: 300,
      widget_enabled: false,
      widget_channel_id: null,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      roles: [
        {
          id: guild.id, // @everyone shares the guild id
          name: '@everyone',
          color: 0,
          colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
          hoist: false,
          icon: null,
          unicode_emoji: null,
          position: 0,
          permissions: DEFAULT_MEMBER_PERMISSIONS,
          managed: false,
          mentionable: false,
          flags: 0,
        },
      ],
      emojis: [],
      features: [],
      mfa_level: 0,
      application_id: null,
      system_channel_id: guild.channels[0]?.id ?? null,
      system_channel_flags: 0,
      rules_channel_id: null,
      max_presences: null,
      max_members: 500000,
      vanity_url_code: null,
      description: null,
      banner: null,
      premium_tier: 0,
      premium_subscription_count: 0,
      preferred_locale: 'en-US',
      public_updates_channel_id: null,
      max_video_channel_users: 25,
      max_stage_video_channel_users: 50,
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
      safety_alerts_channel_id: null,
      stickers: [],
      // GUILD_CREATE-only fields
      joined_at: guild.joinedAt,
      large: false,
      unavailable: false,
      member_count: 2,
      voice_states: [],
      // Discord always includes the bot's own member, so guild.members.me works.
      members: [this.memberObject(this.botUser, guild.joinedAt)],
      channels: guild.channels.map((channel, index) => {
        const { guild_id: _omit, ...rest } = this.channelObject(channel, index);
        return rest;
      }),
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  memberObject(user: APIUser, joinedAt: string, permissions?: string): JsonObject {
    return {
      user,
      nick: null,
      avatar: null,
      banner: null,
      roles: [],
      joined_at: joinedAt,
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      communication_disabled_until: null,
      ...(permissions !== undefined ? { permissions } : {}),
    };
  }

  applicationObject(): JsonObject {
    return {
      id: this.applicationId,
      name: this.botUser.username,
      icon: null,
      description: 'A fake application served by fake-discord',
      summary: '',
      type: null,
      bot: this.botUser,
      bot_public: false,
      bot_require_code_grant: false,
      verify_key: '0'.repeat(64),
      flags: 0,
      owner: makeUser(this.defaultGuild.ownerId, 'owner'),
      team: null,
      approximate_guild_count: this.guilds.size,
      interactions_endpoint_url: null,
      integration_types_config: { '0': {} },
    };
  }
}
