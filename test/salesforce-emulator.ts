import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rootCertificates } from 'node:tls';
import { generate } from 'selfsigned';
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { loopbackTls } from '../emulators/loopback-tls.js';
import { startSalesforceEmulator, type SalesforceEmulator, type SalesforceOrgSpec } from '../emulators/salesforce/index.js';

/** A connected app's key material: the certificate uploaded to Salesforce and the private key Tenantwatch signs assertions with. */
export interface ConnectedAppKeys {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** A fresh RSA key and a self-signed certificate for a connected app (test-only, made at every start). */
export async function connectedAppKeys(): Promise<ConnectedAppKeys> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: 'tenantwatch-test' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 24 * 3_600_000),
  });
  return { certificatePem: pems.cert, privateKeyPem: pems.private };
}

/** The Salesforce emulator over HTTPS, its certificate in a CA file for a scheduler process and trusted by this process's fetch until `stop`. */
export interface TrustedSalesforce {
  readonly emulator: SalesforceEmulator;
  /** CONNECTOR_CA_FILE for a scheduler process. */
  readonly caFile: string;
  stop(): Promise<void>;
}

export async function startTrustedSalesforce(orgs: readonly SalesforceOrgSpec[]): Promise<TrustedSalesforce> {
  const tls = await loopbackTls();
  const caDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-salesforce-ca-'));
  const caFile = path.join(caDir, 'emulator.pem');
  fs.writeFileSync(caFile, tls.cert);
  const previous = getGlobalDispatcher();
  const agent = new Agent({ connect: { ca: [...rootCertificates, tls.cert] } });
  setGlobalDispatcher(agent);
  let emulator: SalesforceEmulator;
  try {
    emulator = await startSalesforceEmulator({ tls, orgs: [...orgs] });
  } catch (error) {
    setGlobalDispatcher(previous);
    await agent.close();
    fs.rmSync(caDir, { recursive: true, force: true });
    throw error;
  }
  return {
    emulator,
    caFile,
    async stop() {
      await emulator.stop();
      setGlobalDispatcher(previous);
      await agent.close();
      fs.rmSync(caDir, { recursive: true, force: true });
    },
  };
}
