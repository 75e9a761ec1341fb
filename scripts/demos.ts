import fs from 'node:fs';
import path from 'node:path';
import type { LoopbackTls } from '../emulators/loopback-tls.js';
import type { Config, DemoName } from '../platform/config.js';
import type { Database } from '../platform/database.js';
import { startGoogleDemo } from './demo-google.js';
import { startM365Demo } from './demo-m365.js';
import { startSalesforceDemo } from './demo-salesforce.js';
import { startDemo, type Demo } from './demo.js';

/** What a provider emulator's demo is given: the stack's config, the accounts database, the loopback certificate it serves, and a way to make its change subscriptions again. */
export interface EmulatorDemoContext {
  readonly config: Config;
  readonly accounts: Database;
  readonly tls: LoopbackTls;
  readonly resubscribe: (instanceId: string) => Promise<void>;
}

/** The demos of provider emulators (HTTPS on loopback, notifying the scheduler's receiver), by DEMO name. */
const EMULATOR_DEMOS: Readonly<Record<Exclude<DemoName, 'simulated'>, (context: EmulatorDemoContext) => Promise<Demo>>> = {
  m365: ({ config, accounts, tls, resubscribe }) => startM365Demo(config, accounts, tls, resubscribe),
  google: ({ config, accounts, tls, resubscribe }) => startGoogleDemo(config, accounts, tls, resubscribe),
  salesforce: ({ config, accounts, tls }) => startSalesforceDemo(config, accounts, tls),
};

/** Whether `name` is a provider emulator's demo (which needs a loopback certificate and a public webhook address). */
export function isEmulatorDemo(name: DemoName): name is Exclude<DemoName, 'simulated'> {
  return name !== 'simulated';
}

/**
 * Starts the demos named, in order (the simulated provider's first), and answers them as one: its
 * description lists each, its instances are all of theirs, stopping it stops each. A demo that fails
 * to start stops those started before it.
 */
export async function startDemos(
  names: readonly DemoName[],
  context: Omit<EmulatorDemoContext, 'tls'> & { readonly tls?: LoopbackTls; readonly webhookUrl: string },
): Promise<Demo> {
  const started: Demo[] = [];
  try {
    for (const name of names) {
      if (!isEmulatorDemo(name)) started.push(await startDemo(context.config, context.accounts, context.webhookUrl));
      else {
        if (!context.tls) throw new Error(`the ${name} demo needs a loopback certificate`);
        started.push(await EMULATOR_DEMOS[name]({ ...context, tls: context.tls }));
      }
    }
  } catch (error) {
    for (const demo of started.reverse()) await demo.stop().catch(() => undefined);
    throw error;
  }
  if (started.length === 1) return started[0]!;
  const simulator = started.find((demo) => demo.simulator)?.simulator;
  return {
    description: started.map((demo) => demo.description).join('; '),
    ...(simulator ? { simulator } : {}),
    instances: Object.assign({}, ...started.map((demo) => demo.instances)) as Record<string, string>,
    stop: async () => {
      for (const demo of [...started].reverse()) await demo.stop();
    },
  };
}

/** Writes the CA file the scheduler trusts for the emulators' certificate, with whatever CONNECTOR_CA_FILE held. */
export function writeDemoCaFile(config: Config, tls: LoopbackTls): string {
  fs.mkdirSync(config.dataDir, { recursive: true });
  const caFile = path.join(config.dataDir, 'demo-ca.pem');
  const extra = config.CONNECTOR_CA_FILE ? fs.readFileSync(config.CONNECTOR_CA_FILE, 'utf8') : '';
  fs.writeFileSync(caFile, `${extra}${extra.endsWith('\n') || !extra ? '' : '\n'}${tls.cert}`);
  return caFile;
}
