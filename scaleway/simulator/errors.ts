// Error bodies in the Scaleway API's JSON shapes. Shapes marked "recorded" come from the cassettes in
// ../shared/scaleway; the others follow the fields @scaleway/sdk-client parses into its typed errors
// (scw/errors/standard/*), since no recording of them exists.

export interface ApiErrorBody {
  type: string;
  message: string;
  [key: string]: unknown;
}

/** An HTTP error answer. Thrown by handlers, rendered by the router. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody | string,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'string' ? body : `${status} ${body.type}: ${body.message}`);
    this.name = 'ApiError';
  }
}

export interface InvalidArgument {
  argument_name: string;
  reason: 'required' | 'constraint' | 'unknown';
  help_message: string;
}

/** Recorded (test-create-server-with-incorrect-body): HTTP 400. */
export function invalidArguments(details: InvalidArgument[]): ApiError {
  return new ApiError(400, { type: 'invalid_arguments', message: 'invalid argument(s)', details });
}

export function requiredArgument(argumentName: string): InvalidArgument {
  return { argument_name: argumentName, reason: 'required', help_message: 'required key not provided' };
}

export function constraintArgument(argumentName: string, helpMessage: string): InvalidArgument {
  return { argument_name: argumentName, reason: 'constraint', help_message: helpMessage };
}

/** Recorded (server-scratch-storage, not-found-ipid): HTTP 404, e.g. resource instance_server. */
export function notFound(resource: string, resourceId: string): ApiError {
  return new ApiError(404, { type: 'not_found', message: 'resource is not found', resource, resource_id: resourceId });
}

/** Recorded on the marketplace (invalid-image-label): same fields, the gateway's key order. */
export function marketplaceImageNotFound(label: string): ApiError {
  return new ApiError(404, { message: 'resource is not found', resource: 'MarketplaceImage', resource_id: label, type: 'not_found' });
}

/** Recorded on the Apple Silicon API (test-server-ssh-simple), the only out_of_stock recording: HTTP 503. */
export function outOfStock(resource = 'server'): ApiError {
  return new ApiError(503, { message: 'resource is out of stock', resource, type: 'out_of_stock' });
}

/**
 * Not recorded. HTTP 400 as the brief for this simulator asks; the SDK keys on the body's
 * type/resource/resource_id/current_state, not on the status.
 */
export function transientState(resource: string, resourceId: string, currentState: string): ApiError {
  return new ApiError(400, {
    type: 'transient_state',
    message: 'resource is in a transient state',
    resource,
    resource_id: resourceId,
    current_state: currentState,
  });
}

/** Not recorded. The SDK's QuotasExceededError reads details[] {resource, quota, current, project_id}. */
export function quotasExceeded(resource: string, quota: number, current: number, projectId: string): ApiError {
  return new ApiError(403, {
    type: 'quotas_exceeded',
    message: 'quota(s) exceeded for this resource',
    details: [{ resource, quota, current, project_id: projectId }],
  });
}

/** Not recorded. The SDK's PermissionsDeniedError reads details[] {resource, action}. */
export function permissionsDenied(resource: string, action: string): ApiError {
  return new ApiError(403, {
    type: 'permissions_denied',
    message: 'insufficient permissions',
    details: [{ resource, action }],
  });
}

/** Not recorded. The SDK's ResourceLockedError reads resource and resource_id. */
export function locked(resource: string, resourceId: string): ApiError {
  return new ApiError(403, { type: 'locked', message: 'resource is locked', resource, resource_id: resourceId });
}

/** Not recorded. The SDK's PreconditionFailedError reads precondition and help_message. */
export function preconditionFailed(precondition: string, helpMessage: string): ApiError {
  return new ApiError(412, { type: 'precondition_failed', message: 'precondition is not respected', precondition, help_message: helpMessage });
}

/**
 * Not recorded. Deliberately no Retry-After header: clients must back off on their own.
 * help_message makes the SDK build a TooManyRequestsError instead of a bare ScalewayError.
 */
export function tooManyRequests(): ApiError {
  return new ApiError(429, { type: 'too_many_requests', message: 'too many requests', help_message: 'the request rate limit was reached, slow down' });
}

/** Not recorded. A missing or malformed X-Auth-Token; fields read by DeniedAuthenticationError. */
export function deniedAuthentication(reason: 'invalid_argument' | 'not_found'): ApiError {
  return new ApiError(401, { type: 'denied_authentication', message: 'authentication is denied', method: 'api_key', reason });
}

/** A 4xx for an action that the server's state does not allow (not recorded; generic shape). */
export function invalidRequest(message: string): ApiError {
  return new ApiError(400, { type: 'invalid_request_error', message });
}

export function serverError(status = 500): ApiError {
  const message = status === 503 ? 'service unavailable' : status === 502 ? 'bad gateway' : status === 504 ? 'gateway timeout' : 'internal error';
  return new ApiError(status, { type: 'internal_error', message });
}

/** Names accepted by the fault injection API for a canned error. */
export type FaultErrorName =
  | 'out_of_stock'
  | 'quotas_exceeded'
  | 'transient_state'
  | 'not_found'
  | 'invalid_arguments'
  | 'permissions_denied'
  | 'locked'
  | 'too_many_requests'
  | 'internal_error'
  | 'bad_gateway'
  | 'service_unavailable'
  | 'gateway_timeout';

export const FAULT_ERROR_NAMES: readonly FaultErrorName[] = [
  'out_of_stock', 'quotas_exceeded', 'transient_state', 'not_found', 'invalid_arguments', 'permissions_denied',
  'locked', 'too_many_requests', 'internal_error', 'bad_gateway', 'service_unavailable', 'gateway_timeout',
];

export interface FaultContext {
  resource: string;
  resourceId: string;
  commercialType?: string;
  projectId: string;
  currentState?: string;
}

/** Builds the canned error for a fault, filling ids from the call it hits. */
export function faultError(name: FaultErrorName, context: FaultContext): ApiError {
  switch (name) {
    case 'out_of_stock':
      return outOfStock();
    case 'quotas_exceeded':
      return quotasExceeded(context.commercialType ? `instances_${context.commercialType.toLowerCase().replaceAll('-', '_')}` : 'instances', 0, 0, context.projectId);
    case 'transient_state':
      return transientState(context.resource, context.resourceId, context.currentState ?? 'starting');
    case 'not_found':
      return notFound(context.resource, context.resourceId);
    case 'invalid_arguments':
      return invalidArguments([constraintArgument('commercial_type', 'rejected by an injected fault')]);
    case 'permissions_denied':
      return permissionsDenied(context.resource, 'write');
    case 'locked':
      return locked(context.resource, context.resourceId);
    case 'too_many_requests':
      return tooManyRequests();
    case 'internal_error':
      return serverError(500);
    case 'bad_gateway':
      return serverError(502);
    case 'service_unavailable':
      return serverError(503);
    case 'gateway_timeout':
      return serverError(504);
  }
}
