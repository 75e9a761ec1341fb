import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The walls of ARCHITECTURE.md are lint rules (eslint.config.js): these lint small sources as if they
 * sat at the given paths and check that each forbidden import fails `npm run lint` and each allowed one passes.
 */

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: process.cwd() });
});

/** The wall rule's messages for `source` linted as the file `path`. */
async function wallMessages(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path });
  return result!.messages
    .filter((m) => m.ruleId === 'import-x/no-restricted-paths' || m.ruleId === 'import-x/no-unresolved')
    .map((m) => `${m.ruleId}: ${m.message}`);
}

const use = (specifier: string, name = 'x') => `import { ${name} } from '${specifier}';\nexport const y = ${name};\n`;

describe('the walls between folders', () => {
  it.each([
    ['a subgraph importing another subgraph', 'subgraphs/accounts/x.ts', '../activities/governance.service.js', 'GovernanceService'],
    ['a subgraph importing another subgraph’s public surface', 'subgraphs/files/x.ts', '../accounts/public.js', 'AccountService'],
    ['a subgraph importing the scheduler', 'subgraphs/activities/x.ts', '../../scheduler/data-scan/detectors.js', 'DETECTORS'],
    ['a subgraph importing the connectors', 'subgraphs/accounts/x.ts', '../../connectors/registry.js', 'CONNECTORS'],
    ['a subgraph importing the composition root', 'subgraphs/files/x.ts', '../index.js', 'SUBGRAPHS'],
    ['the scheduler importing a subgraph’s internals', 'scheduler/x.ts', '../subgraphs/files/file.service.js', 'FileService'],
    ['a scheduler job importing a subgraph’s entity', 'scheduler/jobs/x.ts', '../../subgraphs/accounts/account.entity.js', 'Account'],
    [
      'the scheduler importing a connector’s internals',
      'scheduler/x.ts',
      '../connectors/simulated/connector.js',
      'simulatedConnectorFactory',
    ],
    ['the gateway importing a subgraph', 'gateway/x.ts', '../subgraphs/activities/public.js', 'EventLogService'],
    ['the gateway importing the scheduler', 'gateway/subscriptions/x.ts', '../../scheduler/scheduler.js', 'startScheduler'],
    ['the platform importing a subgraph', 'platform/x.ts', '../subgraphs/accounts/public.js', 'AccountService'],
    ['the platform importing the connectors', 'platform/governance/x.ts', '../../connectors/contract.js', 'TransientError'],
    ['a connector importing the scheduler', 'connectors/simulated/x.ts', '../../scheduler/budget.js', 'RateBudget'],
    ['production code importing the test harness', 'scheduler/x.ts', '../test/harness.js', 'waitFor'],
    ['an emulator importing its connector', 'emulators/m365/x.ts', '../../connectors/contract.js', 'TransientError'],
    ['a connector importing its emulator', 'connectors/simulated/x.ts', '../../emulators/m365/index.js', 'startM365Emulator'],
  ])('refuses %s', async (_what, path, specifier, name) => {
    expect(await wallMessages(path, use(specifier, name))).toEqual([expect.stringMatching(/^import-x\/no-restricted-paths: /)]);
  });

  it.each([
    ['a subgraph importing its own folder', 'subgraphs/files/x.ts', './file.service.js', 'FileService'],
    ['a subgraph importing the platform', 'subgraphs/files/x.ts', '../../platform/governance/request.js', 'requestGovernance'],
    ['the scheduler importing a subgraph’s public surface', 'scheduler/jobs/x.ts', '../../subgraphs/files/public.js', 'FileService'],
    ['the scheduler importing the connector contract', 'scheduler/x.ts', '../connectors/contract.js', 'TransientError'],
    ['the composition root importing a subgraph’s definition', 'subgraphs/index.ts', './files/subgraph.js', 'filesSubgraph'],
    ['the gateway importing the platform', 'gateway/x.ts', '../platform/auth.js', 'signToken'],
    ['a connector importing the platform', 'connectors/simulated/x.ts', '../../platform/vocabulary/sharing.js', 'SharingLevel'],
    ['a test beside the scheduler importing the harness', 'scheduler/x.test.ts', '../test/harness.js', 'waitFor'],
    ['an emulator importing the platform', 'emulators/m365/x.ts', '../../platform/http.js', 'listen'],
    ['an end-to-end test starting an emulator', 'test/x.test.ts', '../emulators/m365/index.js', 'startM365Emulator'],
  ])('allows %s', async (_what, path, specifier, name) => {
    expect(await wallMessages(path, use(specifier, name))).toEqual([]);
  });

  it('fails an import it cannot resolve instead of letting it through the walls', async () => {
    expect(await wallMessages('subgraphs/files/x.ts', use('../activities/no-such-module.js'))).toEqual([
      expect.stringMatching(/^import-x\/no-unresolved: /),
    ]);
  });
});
