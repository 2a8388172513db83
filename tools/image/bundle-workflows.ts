// Prebundles the compiled workflows for the image, so the worker starts without
// webpack: `node --import tsx tools/image/bundle-workflows.ts <dist dir>` writes
// <dist>/workflow-bundle.js, which the worker loads when WORKFLOW_BUNDLE_PATH is set
// (worker/workflow-code.ts). The failure converter the worker's data converter names
// (runtime/payload-codec.ts) goes into the bundle too: the workflow sandbox uses it.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const dist = process.argv[2];
if (!dist) throw new Error('usage: bundle-workflows.ts <dist dir>');
const root = resolve(dist);
const { code } = await bundleWorkflowCode({
  workflowsPath: join(root, 'workflows', 'index.js'),
  failureConverterPath: join(root, 'runtime', 'failure-converter.js'),
  logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: (message) => console.warn(`[image] bundler: ${message}`), error: (message) => console.error(`[image] bundler: ${message}`) },
});
const out = join(root, 'workflow-bundle.js');
writeFileSync(out, code);
console.error(`[image] workflow bundle ${out}: ${(code.length / 1024).toFixed(0)} KiB`);
