// How activity errors reach the workflow: a CloudError that retrying cannot fix
// becomes a non-retryable ApplicationFailure whose type names the cause, so the
// workflow rolls back at once instead of retrying for ten minutes.
import { ApplicationFailure } from '@temporalio/activity';
import { CloudError } from '../scaleway/errors.ts';
import { KubeError } from '../kube/rest.ts';

const PASCAL: Record<string, string> = {
  'out-of-stock': 'OutOfStock',
  'quota-exceeded': 'QuotaExceeded',
  'not-found': 'NotFound',
  'transient-state': 'TransientState',
  locked: 'ServerLocked',
  'invalid-arguments': 'InvalidArguments',
  'permission-denied': 'PermissionDenied',
  unauthenticated: 'Unauthenticated',
  'precondition-failed': 'PreconditionFailed',
  'rate-limited': 'RateLimited',
  'server-error': 'ScalewayServerError',
  network: 'ScalewayUnreachable',
  unknown: 'ScalewayError',
};

/** Non-retryable failure for bad input: the workflow records `reason` on the NodeClaim. */
export function invalidInput(reason: string, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, reason);
}

/** Runs an activity body; cloud and Kubernetes errors leave it typed for Temporal's retry policy. */
export async function translated<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof CloudError) {
      const type = PASCAL[err.kind] ?? 'ScalewayError';
      throw err.retryable ? ApplicationFailure.retryable(err.message, type) : ApplicationFailure.nonRetryable(err.message, type);
    }
    if (err instanceof KubeError) {
      // Forbidden and invalid objects will not fix themselves; conflicts, throttling and 5xx will.
      const permanent = err.status === 403 || err.status === 422 || err.status === 400;
      const type = `Kubernetes${err.reason || err.status}`;
      throw permanent ? ApplicationFailure.nonRetryable(err.message, type) : ApplicationFailure.retryable(err.message, type);
    }
    throw err;
  }
}
