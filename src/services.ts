import type { SigningKeys } from './actions/signing-keys.js';
import type { Config } from './config.js';
import type { AdminActions } from './core/admin.js';
import type { Approvals } from './core/approvals.js';
import type { AuditLog } from './core/audit.js';
import type { PhoneDirectory } from './core/phones.js';
import type { Clock } from './core/ports.js';
import type { Requests } from './core/requests.js';
import type { CodeSender } from './core/send-code.js';
import type { Sessions } from './core/sessions.js';
import type { CodeVerifier } from './core/verify-code.js';
import type { Logger } from './logger.js';
import type { ApprovalState } from './slack/approval-state.js';
import type { PendingCommands } from './slack/pending-commands.js';

/** What the listeners work with. Each listener takes only the part it uses (`Pick<Services, ...>`). */
export interface Services {
  config: Config;
  clock: Clock;
  logger: Logger;
  phones: PhoneDirectory;
  sessions: Sessions;
  requests: Requests;
  sender: CodeSender;
  verifier: CodeVerifier;
  /** Step-up commands waiting for their code (Slack state, kept by request id). */
  pending: PendingCommands;
  audit: AuditLog;
  admin: AdminActions;
  /** Approval requests (core/approvals.ts) and what Slack keeps of them (approval-state.ts). */
  approvals: Approvals;
  approvalState: ApprovalState;
  /** The keys action tokens are signed with; present when commands are declared ([command /name]). */
  signingKeys?: SigningKeys | undefined;
  /** How long a listener may wait on slow work before it must answer Slack (see slack/deadline.ts). */
  slackDeadlineMs: number;
}
