// Lint rules: typescript-eslint's recommended type-aware set, plus the ones
// that keep workflow code deterministic (no Node APIs, no SDKs, no Math.random).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'tools/k8s/**', '.sandbox/**', '.image/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    files: ['eslint.config.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // Workflow code is replayed: it must not touch the clock, randomness or I/O.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['node:*', 'fs', 'path', 'http', 'https', 'crypto', 'child_process', 'os'], message: 'Workflow code runs in a deterministic sandbox: do I/O in an activity.' },
        { group: ['../activities/*', '../activities/**'], allowTypeImports: true, message: 'Import activity types only (import type).' },
        { group: ['@scaleway/*', '@kubernetes/*'], message: 'Workflows call activities, never SDKs.' },
      ] }],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'Use the workflow-safe random from @temporalio/workflow (uuid4) instead.' },
      ],
    },
  },
  {
    // Activities are the worker's side effects: they never run workflow code, and know nothing of the watcher.
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/workflows/*', '**/workflows/**', '!**/workflows/contract.ts'], message: 'Activities do not import workflow code: take workflow IDs, the task queue, signals and queries from the shared contract (workflows/contract.ts).' },
        { group: ['**/watcher/*', '**/watcher/**'], message: 'Activities run in the worker, the watcher is another process: share code through kube/, scaleway/ or the workflow contract.' },
      ] }],
    },
  },
  {
    // The watcher starts and signals workflows; it never runs activities (another process, another Deployment).
    files: ['watcher/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/activities/*', '**/activities/**'], message: 'The watcher does not import activities: share code through kube/ (NodeClass defaults: kube/api/nodeclass-defaults.ts), scaleway/ or the workflow contract.' },
        { group: ['**/workflows/*', '**/workflows/**', '!**/workflows/contract.ts'], allowTypeImports: true, message: 'The watcher imports workflow types only (import type), and IDs, the task queue, signals and queries from the shared contract (workflows/contract.ts).' },
      ] }],
    },
  },
);
