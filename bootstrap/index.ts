// The bootstrap renderer's public surface: what an activity needs to give a
// server its cloud-init and a kubeadm node its bootstrap token.
export { parseRenderedBootstrap, renderBootstrap, renderCloudInit } from './cloud-init.ts';
export { BootstrapError } from './errors.ts';
export {
  apiServerEndpointFromClusterInfo,
  bootstrapTokenSecret,
  caCertHash,
  formatBootstrapToken,
  newBootstrapToken,
  parseBootstrapToken,
  type BootstrapToken,
  type BootstrapTokenSecretOptions,
  type ClusterInfo,
} from './kubeadm-token.ts';
export { CUSTOM_TEMPLATE_VARIABLES } from './modes/custom.ts';
export { K3S_DEFAULT_INSTALL_SCRIPT_URL } from './modes/k3s.ts';
export { kosmosAgentUrl } from './modes/kosmos.ts';
export { PATHS } from './node-hint.ts';
export { kubeletMaySetLabel, providerIdFor, splitNodeLabels, UNREGISTERED_TAINT } from './node-registration.ts';
export type * from './types.ts';
