import { Configuration, MFAApi } from 'bandwidth-sdk';
import type { BandwidthConfig } from '../config.js';
import type { Clock, CodeProvider, SendCodeRequest, VerifyCodeRequest } from '../core/ports.js';
import { toProviderError } from './errors.js';
import { createTokenSource } from './oauth-token.js';

/**
 * The CodeProvider over Bandwidth's MFA API (bandwidth-sdk's MFAApi). SMS goes to the messaging
 * endpoint with the messaging application id, voice to the voice endpoint with the voice one.
 * Every call has a timeout; every failure becomes a ProviderError.
 */
export function createBandwidthProvider(config: BandwidthConfig, fromNumber: string, clock: Clock): CodeProvider {
  const auth =
    config.auth.kind === 'basic'
      ? { username: config.auth.username, password: config.auth.password }
      : { accessToken: createTokenSource(config.auth, { clock, timeoutMs: config.timeoutMs }) };
  const api = new MFAApi(new Configuration({ ...auth, basePath: config.mfaBaseUrl, baseOptions: { timeout: config.timeoutMs } }));

  return {
    async send({ to, scope, delivery, digits, message }: SendCodeRequest) {
      const request = { to, from: fromNumber, scope, digits, message };
      try {
        if (delivery === 'voice') {
          await api.generateVoiceCode(config.accountId, { ...request, applicationId: config.voiceApplicationId });
        } else {
          await api.generateMessagingCode(config.accountId, { ...request, applicationId: config.messagingApplicationId });
        }
      } catch (error) {
        throw toProviderError('send', error);
      }
    },

    async verify({ to, scope, code, windowMinutes }: VerifyCodeRequest) {
      try {
        const { data } = await api.verifyCode(config.accountId, { to, scope, code, expirationTimeInMinutes: windowMinutes });
        return data.valid === true;
      } catch (error) {
        throw toProviderError('verify', error);
      }
    },
  };
}
