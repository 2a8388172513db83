// The one place that interprets Scaleway API errors. Everything above the
// Scaleway adapter sees a CloudError with a kind, never an SDK class or a bare
// HTTP status, and decides from `retryable` whether trying again can help.
import { Errors } from '@scaleway/sdk-client';

export type CloudErrorKind =
  | 'out-of-stock' // no capacity for this type in this zone: try another offering
  | 'quota-exceeded' // the project's quota: another type may still fit, a retry of the same will not
  | 'not-found'
  | 'transient-state' // the resource is busy (starting, stopping): retry later
  | 'locked' // locked by Scaleway (abuse, billing): a human must act
  | 'invalid-arguments' // our request is wrong: never retry
  | 'permission-denied'
  | 'unauthenticated'
  | 'precondition-failed'
  | 'rate-limited' // HTTP 429: back off and retry
  | 'server-error' // 5xx: retry
  | 'network' // no answer at all: retry
  | 'unknown';

const RETRYABLE: ReadonlySet<CloudErrorKind> = new Set(['transient-state', 'rate-limited', 'server-error', 'network']);

export class CloudError extends Error {
  override readonly name = 'CloudError';
  readonly kind: CloudErrorKind;
  readonly status: number | undefined;
  /** The resource the API named (e.g. `instance_server`), when it did. */
  readonly resource: string | undefined;

  constructor(kind: CloudErrorKind, message: string, opts: { status?: number; resource?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.status = opts.status;
    this.resource = opts.resource;
  }

  /** Whether trying the same call again, later, can succeed. */
  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }

  /** Whether another offering (type or zone) might succeed where this one failed. */
  get capacityError(): boolean {
    return this.kind === 'out-of-stock' || this.kind === 'quota-exceeded';
  }
}

/**
 * Raised by our own HTTP client (scaleway/http-client.ts), not by Scaleway: the
 * client-side timeout ran out, or no request slot came under the rate limit.
 */
export class ClientSideError extends Error {
  override readonly name = 'ClientSideError';
  constructor(readonly reason: 'timeout' | 'rate-limited', message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
  }
}

function kindOfScalewayError(err: InstanceType<typeof Errors.ScalewayError>): CloudErrorKind {
  if (err instanceof Errors.OutOfStockError) return 'out-of-stock';
  if (err instanceof Errors.QuotasExceededError) return 'quota-exceeded';
  if (err instanceof Errors.ResourceNotFoundError) return 'not-found';
  if (err instanceof Errors.TransientStateError) return 'transient-state';
  if (err instanceof Errors.ResourceLockedError) return 'locked';
  if (err instanceof Errors.InvalidArgumentsError) return 'invalid-arguments';
  if (err instanceof Errors.PermissionsDeniedError) return 'permission-denied';
  if (err instanceof Errors.DeniedAuthenticationError) return 'unauthenticated';
  if (err instanceof Errors.PreconditionFailedError) return 'precondition-failed';
  if (err instanceof Errors.TooManyRequestsError) return 'rate-limited';
  return kindOfStatus(err.status);
}

function kindOfStatus(status: number): CloudErrorKind {
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'server-error';
  if (status === 404) return 'not-found';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permission-denied';
  if (status === 400) return 'invalid-arguments';
  return 'unknown';
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

function isNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code ?? (err.cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  // undici reports connection failures as a TypeError('fetch failed') with the cause inside.
  return err instanceof TypeError && err.message === 'fetch failed';
}

/**
 * Translates anything a Scaleway SDK call threw into a CloudError whose message
 * says what we were doing: `creating server gpu-abc in fr-par-2: out of stock (server)`.
 */
export function toCloudError(err: unknown, doing: string): CloudError {
  if (err instanceof CloudError) return err;
  if (err instanceof ClientSideError) {
    // A timed-out call may still be carried out by Scaleway: callers of writes look before they retry.
    return new CloudError(err.reason === 'timeout' ? 'network' : 'rate-limited', `${doing}: ${err.message}`, { cause: err });
  }
  if (err instanceof Errors.ScalewayError) {
    const kind = kindOfScalewayError(err);
    const resource = (err as { resource?: unknown }).resource;
    const detail = err.rawMessage ?? err.message;
    return new CloudError(kind, `${doing}: ${detail}${typeof resource === 'string' && resource ? ` (${resource})` : ''}`, {
      status: err.status,
      ...(typeof resource === 'string' && resource ? { resource } : {}),
      cause: err,
    });
  }
  if (isNetworkError(err)) {
    const detail = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    return new CloudError('network', `${doing}: Scaleway API unreachable (${detail})`, { cause: err });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new CloudError('unknown', `${doing}: ${detail}`, { cause: err });
}

/**
 * Runs one SDK read (a GET: safe to send twice) and translates its failure. A
 * network failure is tried once more at once: it is most often a kept-alive
 * connection the other end closed as it was reused.
 */
export async function cloudRead<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!isNetworkError(err)) throw toCloudError(err, doing);
    return cloudCall(doing, call);
  }
}

/** Runs one SDK call and translates its failure. */
export async function cloudCall<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toCloudError(err, doing);
  }
}

/**
 * The `error` label of karpenter_cloudprovider_errors_total: Karpenter's own
 * values where the meaning is the same (pkg/cloudprovider/metrics), else the
 * CloudError kind (`rate-limited`, `network`, ...).
 */
export function cloudErrorLabel(err: unknown): string {
  const cloud = err instanceof CloudError ? err : toCloudError(err, '');
  return cloud.capacityError ? 'InsufficientCapacityError' : cloud.kind;
}
