// Only the MFA API: the SDK's index loads all its APIs and models (~10 MB RSS and ~0.1 s of start-up,
// measured). The package declares no `exports`, so Node allows these paths; `~8.1.4` pins them.
import { MFAApi } from 'bandwidth-sdk/dist/api/mfaapi.js';
import { Configuration } from 'bandwidth-sdk/dist/configuration.js';
import type { BandwidthConfig } from '../config.js';
import {
  type Clock,
  type CodeProvider,
  ProviderError,
  type SendCodeRequest,
  type VerifyCodeRequest,
} from '../core/ports.js';
import { withDeadline } from './deadline.js';
import { toProviderError } from './errors.js';
import { codeMessage } from './message.js';
import { createTokenSource } from './oauth-token.js';

/**
 * The CodeProvider over Bandwidth's MFA API (bandwidth-sdk's MFAApi). SMS goes to the messaging
 * endpoint with the messaging application id, voice to the voice endpoint with the voice one.
 * Every call, the OAuth token fetch included, ends within `timeoutMs`; every failure becomes a ProviderError.
 */
export function createBandwidthProvider(
  config: BandwidthConfig,
  fromNumber: string,
  clock: Clock,
  appName: string,
): CodeProvider {
  const auth =
    config.auth.kind === 'basic'
      ? { username: config.auth.username, password: config.auth.password }
      : { accessToken: createTokenSource(config.auth, { clock, timeoutMs: config.timeoutMs }) };
  // No axios `timeout`: the deadline below is stricter, and two timers racing would make the error vary.
  const api = new MFAApi(new Configuration({ ...auth, basePath: config.mfaBaseUrl }));

  return {
    async send({ to, scope, purpose, delivery, digits, lifetimeMinutes }: SendCodeRequest) {
      const request = { to, from: fromNumber, scope, digits, message: codeMessage(appName, purpose, lifetimeMinutes) };
      try {
        // Any 2xx means the code went out; its body (messageId or callId) is not needed.
        await withDeadline<unknown>('send', config.timeoutMs, (signal) =>
          delivery === 'voice'
            ? api.generateVoiceCode(
                config.accountId,
                { ...request, applicationId: config.voiceApplicationId },
                { signal },
              )
            : api.generateMessagingCode(
                config.accountId,
                { ...request, applicationId: config.messagingApplicationId },
                { signal },
              ),
        );
      } catch (error) {
        throw toProviderError('send', error);
      }
    },

    async verify({ to, scope, code, windowMinutes }: VerifyCodeRequest) {
      try {
        const { data, status } = await withDeadline('verify', config.timeoutMs, (signal) =>
          api.verifyCode(config.accountId, { to, scope, code, expirationTimeInMinutes: windowMinutes }, { signal }),
        );
        return validOf(data, status);
      } catch (error) {
        throw toProviderError('verify', error);
      }
    },
  };
}

/**
 * Only the documented `{"valid": <boolean>}` decides. Anything else (an HTML page, `{}`, `"valid":"true"`)
 * is no answer: reading it as `false` would count a right code as a wrong one toward the lockout.
 */
function validOf(data: unknown, status: number): boolean {
  const valid = typeof data === 'object' && data !== null ? (data as { valid?: unknown }).valid : undefined;
  if (typeof valid === 'boolean') return valid;
  throw new ProviderError('unavailable', `Bandwidth verify: unexpected answer (HTTP ${status})`, status);
}
