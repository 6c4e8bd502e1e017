// The made-up workspace of the demo: one team, the bot, three people with phones, and the channels.
// Ids have Slack's shapes (the bot's config checks them); numbers are US numbers of the 555-01xx block
// that pass the bot's phone rules, as the tests use.

export const TEAM = { id: 'T0DEMO001', domain: 'phonegate-demo', name: 'PhoneGate demo' };

/** The app and its bot user, as auth.test describes them. */
export const BOT = { userId: 'U0DEMOBOT', botId: 'B0DEMOBOT', appId: 'A0DEMOAPP', name: 'PhoneGate' };

/** The Bandwidth number the codes come from. */
export const FROM_NUMBER = '+14155550100';

export const PEOPLE = [
  { id: 'U0DEMOADA', name: 'Ada Park', title: 'admin', admin: true, phone: '+14155550101' },
  { id: 'U0DEMOBEN', name: 'Ben Ortiz', title: 'member', admin: false, phone: '+14155550102' },
  { id: 'U0DEMOCHE', name: 'Chen Li', title: 'member', admin: false, phone: '+14155550103' },
];

/** Public channels; everyone (the bot included) is a member. #general is where commands are typed. */
export const CHANNELS = [
  { id: 'C0DEMOGEN', name: 'general' },
  { id: 'C0DEMOAPR', name: 'approvals' },
  { id: 'C0DEMOSEC', name: 'security' },
];

/** The direct-message channel between the bot and a person (what a post to a user id lands in). */
export const dmChannelId = (userId) => `D${userId.slice(1)}`;

export const personById = (id) => PEOPLE.find((p) => p.id === id);
