/**
 * Bad bootstrap input: a malformed label, token or template, or user data that is not a
 * cloud-config map. Retrying cannot fix it, so activities should fail non-retryably.
 */
export class BootstrapError extends Error {
  override readonly name = 'BootstrapError';
}
