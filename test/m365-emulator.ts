import { rootCertificates } from 'node:tls';
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import type { Connector, ConnectorCredentials, TokenHttp } from '../connectors/contract.js';
import { m365ConnectorFactory as factory } from '../connectors/m365/connector.js';
import { directHttp, plainTokenHttp } from '../connectors/simulated/direct-http.js';
import { loopbackTls } from '../emulators/loopback-tls.js';
import { startM365Emulator, type M365Emulator, type M365EmulatorOptions } from '../emulators/m365/index.js';

/** The Microsoft 365 emulator over HTTPS, trusted by this test process's fetch until `stop`. */
export interface TrustedM365Emulator {
  readonly emulator: M365Emulator;
  /**
   * A connector (and its credentials) for one of the emulator's clients, over plain fetch (no
   * budget, no retries: `directHttp`); `config` adds to or replaces the emulator's hosts.
   */
  connector(
    config: { readonly tenantId: string; readonly clientId: string } & Readonly<Record<string, unknown>>,
    tokens?: TokenHttp,
  ): { readonly connector: Connector; readonly credentials: ConnectorCredentials };
  stop(): Promise<void>;
}

/**
 * Starts the emulator with a loopback certificate made now and trusts it beside the system's
 * authorities (MSAL refuses an http authority, as Microsoft's are HTTPS).
 */
export async function startTrustedM365(options: Omit<M365EmulatorOptions, 'tls'>): Promise<TrustedM365Emulator> {
  const tls = await loopbackTls();
  const previous = getGlobalDispatcher();
  const agent = new Agent({ connect: { ca: [...rootCertificates, tls.cert] } });
  setGlobalDispatcher(agent);
  let emulator: M365Emulator;
  try {
    emulator = await startM365Emulator({ ...options, tls });
  } catch (error) {
    setGlobalDispatcher(previous);
    await agent.close();
    throw error;
  }
  return {
    emulator,
    connector(config, tokens = plainTokenHttp) {
      const valid = factory.validateConfig({ authorityHost: emulator.authorityHost, graphEndpoint: emulator.graphEndpoint, ...config });
      const credentials = factory.credentials(valid, tokens);
      return { connector: factory.create(valid, directHttp(factory, valid), credentials), credentials };
    },
    async stop() {
      await emulator.stop();
      setGlobalDispatcher(previous);
      await agent.close();
    },
  };
}
