// Every workflow the worker registers.
export { provisionNodeClaim } from './provision-nodeclaim.ts';
export { terminateNodeClaim } from './terminate-nodeclaim.ts';
export { garbageCollect } from './garbage-collection.ts';
