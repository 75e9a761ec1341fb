import { rootCertificates } from 'node:tls';
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { loopbackTls, type LoopbackTls } from '../emulators/loopback-tls.js';

/**
 * A loopback certificate for an emulator serving HTTPS, trusted by this test process's fetch (beside
 * the system's authorities) until `restore`: MSAL refuses an http authority, as Microsoft's are HTTPS.
 */
export async function trustedEmulatorTls(): Promise<{ tls: LoopbackTls; restore(): Promise<void> }> {
  const tls = await loopbackTls();
  const previous = getGlobalDispatcher();
  const agent = new Agent({ connect: { ca: [...rootCertificates, tls.cert] } });
  setGlobalDispatcher(agent);
  return {
    tls,
    async restore() {
      setGlobalDispatcher(previous);
      await agent.close();
    },
  };
}
