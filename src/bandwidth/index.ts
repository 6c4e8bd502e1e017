import type { BandwidthConfig } from '../config.js';
import type { Clock, CodeProvider } from '../core/ports.js';

/**
 * The Bandwidth CodeProvider, loaded on first use: bandwidth-sdk (with axios) takes ~0.45 s to load,
 * which would otherwise delay every start. The first code sent pays it once, after Slack is answered.
 */
export function createBandwidthProvider(
  config: BandwidthConfig,
  fromNumber: string,
  clock: Clock,
  appName: string,
): CodeProvider {
  let provider: Promise<CodeProvider> | undefined;
  const load = () =>
    (provider ??= import('./mfa-provider.js').then((m) =>
      m.createBandwidthProvider(config, fromNumber, clock, appName),
    ));
  return {
    send: async (request) => (await load()).send(request),
    verify: async (request) => (await load()).verify(request),
  };
}
