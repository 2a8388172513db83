// The failure converter named by runtime/payload-codec.ts's data converter:
// the SDK's default, with failure messages and stack traces moved into an
// encoded payload, which the payload codec then encrypts. Loaded by path (by
// the SDK, and bundled into the workflow sandbox), so it imports only
// @temporalio/common.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
