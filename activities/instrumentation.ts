// Every activity the worker runs, measured and labeled in one place: its
// duration as a provisioning step (scw_karpenter_provisioning_step_duration_seconds),
// the Scaleway calls it makes under the controller its workflow stands for (the
// `controller` label of karpenter_cloudprovider_*), and its log lines with the
// NodeClaim, server and zone it is about (the SDK adds workflowId and activityType itself).
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { CONTROLLER, provisioningStepDuration, snakeCase, withController, type ControllerName } from '../runtime/metrics.ts';
import { WORKFLOW } from '../workflows/contract.ts';

type LogFields = Record<string, string>;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const record = (v: unknown): Record<string, unknown> | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined);

/** nodeClaim, serverId and zone from an activity's input ({ ref, server, offering } or a NodeClaimRef), when it has them. */
export function logFieldsOfInput(args: readonly unknown[]): LogFields {
  const input = record(args[0]);
  if (!input) return {};
  const ref = record(input['ref']) ?? (text(input['uid']) ? input : undefined) ?? record(input['nodeClaim']);
  const server = record(input['server']);
  const offering = record(input['offering']);
  const fields: LogFields = {};
  const nodeClaim = text(ref?.['name']);
  const serverId = text(server?.['serverId']) ?? text(server?.['id']) ?? text(input['serverId']);
  const zone = text(server?.['zone']) ?? text(offering?.['zone']) ?? text(input['zone']);
  if (nodeClaim) fields['nodeClaim'] = nodeClaim;
  if (serverId) fields['serverId'] = serverId;
  if (zone) fields['zone'] = zone;
  return fields;
}

/** Each workflow does the work of one of Karpenter's controllers: launch and registration, termination, garbage collection. */
const CONTROLLER_OF_WORKFLOW: Record<string, ControllerName> = {
  [WORKFLOW.provisionNodeClaim]: CONTROLLER.nodeClaimLifecycle,
  [WORKFLOW.terminateNodeClaim]: CONTROLLER.nodeClaimTermination,
  [WORKFLOW.garbageCollect]: CONTROLLER.nodeClaimGarbageCollection,
};

/** The `controller` label of an activity's cloud calls: its workflow's controller; an unknown workflow's own name, never empty. */
export function controllerOfActivity(workflowType: string | undefined): string {
  return (workflowType && CONTROLLER_OF_WORKFLOW[workflowType]) || snakeCase(workflowType || 'unknown');
}

/** How a step ended: `unavailable` is an answer that the offering has no capacity (createServer's `ok: false`). */
function outcomeOf(result: unknown): string {
  return record(result)?.['ok'] === false ? 'unavailable' : 'success';
}

export const instrumentActivities: ActivityInterceptorsFactory = (ctx) => {
  let fields: LogFields = {};
  return {
    inbound: {
      execute: async (input, next) => {
        fields = logFieldsOfInput(input.args);
        const activityType = ctx.info.activityType;
        const end = provisioningStepDuration.startTimer({ step: snakeCase(activityType) });
        try {
          const result = await withController(controllerOfActivity(ctx.info.workflowType), () => next(input));
          end({ outcome: outcomeOf(result) });
          return result;
        } catch (err) {
          end({ outcome: ctx.cancellationSignal.aborted ? 'cancelled' : 'failure' });
          throw err;
        }
      },
    },
    outbound: {
      getLogAttributes: (input, next) => next({ ...fields, ...input }),
    },
  };
};
