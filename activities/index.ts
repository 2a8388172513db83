// Every activity the worker registers, bound to its dependencies. Workflows
// import only the type `Activities`.
import type { ActivityDeps } from './deps.ts';
import { resolveNodeClassActivity } from './nodeclass.ts';
import { chooseOfferingsActivity } from './offerings.ts';
import { createServerActivity, powerOnServerActivity, waitForServerRunningActivity } from './servers.ts';
import { cleanupBootstrapActivity, configureBootstrapActivity } from './bootstrap.ts';
import {
  checkNodeInitializationActivity,
  checkNodeRegistrationActivity,
  markInitializedActivity,
  markLaunchedActivity,
  recordFailureActivity,
  registerNodeActivity,
  rollbackActivity,
} from './lifecycle.ts';
import {
  deleteNodeActivity,
  drainNodeActivity,
  releaseBootstrapCredentialsActivity,
  releaseServersActivity,
  removeFinalizerActivity,
  stopProvisioningActivity,
} from './termination.ts';
import {
  deleteGarbageTokenActivity,
  deleteGarbageVolumeActivity,
  deleteNodeClaimWithoutServerActivity,
  planGarbageCollectionActivity,
  releaseGarbageServerActivity,
} from './garbage-collection.ts';

export function createActivities(deps: ActivityDeps) {
  return {
    resolveNodeClass: resolveNodeClassActivity(deps),
    chooseOfferings: chooseOfferingsActivity(deps),
    createServer: createServerActivity(deps),
    configureBootstrap: configureBootstrapActivity(deps),
    powerOnServer: powerOnServerActivity(deps),
    waitForServerRunning: waitForServerRunningActivity(deps),
    markLaunched: markLaunchedActivity(deps),
    checkNodeRegistration: checkNodeRegistrationActivity(deps),
    registerNode: registerNodeActivity(deps),
    checkNodeInitialization: checkNodeInitializationActivity(deps),
    markInitialized: markInitializedActivity(deps),
    cleanupBootstrap: cleanupBootstrapActivity(deps),
    recordFailure: recordFailureActivity(deps),
    rollback: rollbackActivity(deps),
    stopProvisioning: stopProvisioningActivity(deps),
    drainNode: drainNodeActivity(deps),
    releaseServers: releaseServersActivity(deps),
    deleteNode: deleteNodeActivity(deps),
    releaseBootstrapCredentials: releaseBootstrapCredentialsActivity(deps),
    removeFinalizer: removeFinalizerActivity(deps),
    planGarbageCollection: planGarbageCollectionActivity(deps),
    releaseGarbageServer: releaseGarbageServerActivity(deps),
    deleteGarbageVolume: deleteGarbageVolumeActivity(deps),
    deleteGarbageToken: deleteGarbageTokenActivity(deps),
    deleteNodeClaimWithoutServer: deleteNodeClaimWithoutServerActivity(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps.ts';
