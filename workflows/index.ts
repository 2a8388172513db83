// Every workflow the worker registers.
export { provisionNodeClaim, nodeRegisteredSignal, statusQuery } from './provision-nodeclaim.ts';
export { terminateNodeClaim } from './terminate-nodeclaim.ts';
