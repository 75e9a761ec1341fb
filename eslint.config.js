import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** The subgraphs; each owns one folder under subgraphs/. */
const SUBGRAPHS = ['accounts', 'activities', 'files', 'app-permissions'];

/** Test code beside the code it tests may also use the test harness and the simulated provider. */
const TEST_FILE = '**/*.test.ts';

/**
 * The walls between the folders (ARCHITECTURE.md, "Walls"). Each zone forbids `target` to import
 * from `from` (but for `except`, relative to `from`).
 */
const walls = [
  // A subgraph imports its own folder and platform/, nothing else: never another subgraph, the
  // scheduler, the connectors, the gateway or the composition root.
  ...SUBGRAPHS.map((name) => ({
    target: `./subgraphs/${name}`,
    from: './subgraphs',
    except: [`./${name}`],
    message: `A subgraph never imports another: reach ${name === 'activities' ? 'another module' : 'the governance log, instances or connectors'} through a port in platform/ (wired in subgraphs/index.ts).`,
  })),
  ...SUBGRAPHS.map((name) => ({
    target: `./subgraphs/${name}`,
    from: ['./scheduler', './connectors', './gateway', './schema', './scripts', './bench', './console'],
    message: 'A subgraph imports only its own folder and platform/.',
  })),
  // The scheduler reaches a subgraph only through its public.ts, and connectors through the contract and the registry.
  {
    target: './scheduler',
    from: './subgraphs',
    except: SUBGRAPHS.map((name) => `./${name}/public.ts`),
    message: "The scheduler imports a subgraph only through that subgraph's public.ts.",
  },
  {
    target: './scheduler',
    from: './connectors',
    except: ['./contract.ts', './registry.ts', './permission-level.ts'],
    message: 'The scheduler reaches connectors through the contract (connectors/contract.ts) and the registry.',
  },
  {
    target: './scheduler',
    from: ['./gateway', './schema', './scripts', './bench', './console'],
    message: 'The scheduler stands on platform/, the subgraphs’ public surfaces and the connector contract only.',
  },
  // The gateway knows subgraphs by URL, never by their code.
  {
    target: './gateway',
    from: ['./subgraphs', './scheduler', './connectors', './scripts', './bench', './console'],
    message: 'The gateway imports platform/ and schema/ only: it knows subgraphs by URL.',
  },
  // The composition root (subgraphs/index.ts, subgraphs/serve.ts) takes each subgraph's definition and public surface.
  {
    target: ['./subgraphs/index.ts', './subgraphs/serve.ts'],
    from: './subgraphs',
    except: ['./index.ts', ...SUBGRAPHS.flatMap((name) => [`./${name}/public.ts`, `./${name}/subgraph.ts`])],
    message: "The composition root imports a subgraph's public.ts and subgraph.ts only.",
  },
  // schema/ composes the subgraphs' schemas from the composition root.
  {
    target: './schema',
    from: './subgraphs',
    except: ['./index.ts'],
    message: 'schema/ takes the subgraphs from subgraphs/index.ts.',
  },
  // Connectors stand on platform/ and their own folder.
  {
    target: './connectors',
    from: ['./subgraphs', './scheduler', './gateway', './schema', './scripts', './bench', './console'],
    message: 'A connector imports platform/ and the connectors folder only.',
  },
  // A provider emulator stands on platform/ only (it knows nothing of the connector it is tested with),
  // and only tests, benchmarks and scripts (the demo) start one.
  {
    target: './emulators',
    from: ['./subgraphs', './scheduler', './gateway', './connectors', './schema', './scripts', './bench', './console'],
    message: 'An emulator imports platform/ and its own folder only: it follows the provider, not the connector.',
  },
  {
    target: ['./platform', './subgraphs', './scheduler', './gateway', './connectors', './schema'],
    from: './emulators',
    message: 'Only tests, benchmarks and scripts start a provider emulator.',
  },
  // platform/ imports no folder above it.
  {
    target: './platform',
    from: ['./subgraphs', './gateway', './scheduler', './connectors', './schema', './scripts', './bench', './console', './emulators'],
    message: 'platform/ is the ground floor: it imports no folder above it.',
  },
];

/** Production code never imports the tests' harness or the simulated provider's internals through a test helper. */
const testOnly = {
  target: ['./platform', './subgraphs', './scheduler', './gateway', './connectors', './schema'],
  from: './test',
  message: 'Only tests import the test harness.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'schema/supergraph.graphql', 'console/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      // A wall is only as good as the resolver: an import it cannot resolve fails lint instead of passing unseen.
      'import-x/no-unresolved': ['error', { ignore: ['^virtual:'] }],
      'import-x/no-duplicates': 'error',
      'import-x/no-restricted-paths': ['error', { zones: [...walls, testOnly] }],
    },
  },
  {
    // Tests may use the harness and the simulated provider (test infrastructure); every other wall holds for them too.
    files: [TEST_FILE],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: walls.map((zone) =>
            zone.target === './scheduler' && !Array.isArray(zone.from) && zone.from === './connectors'
              ? { ...zone, except: [...zone.except, './simulated'] }
              : zone,
          ),
        },
      ],
    },
  },
  {
    // The browser console: built by Vite with its own tsconfig (DOM, JSX, bundler resolution); it talks
    // to the gateway over HTTP and graphql-ws only, never importing server code.
    files: ['console/**/*.ts', 'console/**/*.tsx'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './console/tsconfig.json' })],
    },
    rules: {
      'import-x/no-unresolved': 'error',
      'import-x/no-duplicates': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './console',
              from: [
                './platform',
                './subgraphs',
                './scheduler',
                './connectors',
                './gateway',
                './schema',
                './scripts',
                './bench',
                './emulators',
                './test',
              ],
              message:
                'The console is a browser app: it reaches Tenantwatch through the gateway (HTTP and graphql-ws), never by importing server code.',
            },
          ],
        },
      ],
    },
  },
  // Prettier owns the layout (`npm run format`; `npm run lint` fails on an unformatted file): no style rule may disagree with it.
  prettier,
);
