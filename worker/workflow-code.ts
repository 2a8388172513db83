// Where the worker takes its workflow code from: the bundle prebuilt into the
// image (WORKFLOW_BUNDLE_PATH, set by the image: no webpack at start, the same
// code in every replica), else workflows/index.ts bundled at start, as in the
// sandbox and the tests.
import { fileURLToPath } from 'node:url';

/** The workflows' entry module, next to this file: .ts from source, .js once compiled (dist/). */
export const WORKFLOWS_PATH = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../workflows/index.ts' : '../workflows/index.js', import.meta.url));

export type WorkflowCodeOption = { workflowBundle: { codePath: string } } | { workflowsPath: string };

/** The Worker.create option naming the workflow code. */
export function workflowCode(env: NodeJS.ProcessEnv = process.env): WorkflowCodeOption {
  const codePath = env.WORKFLOW_BUNDLE_PATH;
  return codePath ? { workflowBundle: { codePath } } : { workflowsPath: WORKFLOWS_PATH };
}
