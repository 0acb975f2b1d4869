/**
 * The supervisor's side of enrolment: a new roster that lists the bot's device (or no longer does),
 * signed by the organisation's supervisor. It lives in `@sealchat/client` now (team-roster.ts), next
 * to invitations and revocation for people (docs/team.md); re-exported here so the bot's tool and
 * tests keep their imports.
 */
export { enrolAgentDevice, removeAgentDevice } from '@sealchat/client';
export type { EnrolOptions, IssuedRoster, RosterChangeOptions } from '@sealchat/client';
