// Where the rendered cloud-init puts things on the node, and the node hint:
// a small JSON file that says how this node registers. It lets a simulated
// kubelet (and a human on the node) see the intended identity without
// parsing flags; it holds no secret.
import { z } from 'zod';
import type { BootstrapMode, Taint } from './types.ts';

export const PATHS = {
  /** The node hint (mode 0644, no secrets). */
  nodeHint: '/etc/scw-karpenter/node.json',
  /** kubeadm: the JoinConfiguration, with the bootstrap token (0600). */
  kubeadmJoinConfig: '/etc/scw-karpenter/kubeadm-join.yaml',
  /** kubeadm: the JoinConfiguration's patches directory; kubeadm applies its kubeletconfiguration patch to the kubelet's config. */
  kubeadmPatchesDir: '/etc/scw-karpenter/kubeadm-patches',
  /** kubeadm: the node's own KubeletConfiguration fields (maxPods, reservations), as a JSON merge patch (0644). */
  kubeadmKubeletPatch: '/etc/scw-karpenter/kubeadm-patches/kubeletconfiguration+merge.yaml',
  /** Kosmos: the same fields as a kubelet --config-dir drop-in (0644). */
  kubeletDropIn: '/etc/kubernetes/kubelet.conf.d/50-scw-karpenter.conf',
  /** k3s: K3S_URL, K3S_TOKEN and install options for the install script (0600). */
  k3sEnv: '/etc/scw-karpenter/k3s-agent.env',
  /** k3s: the script that installs and starts the agent (0700). */
  k3sJoinScript: '/etc/scw-karpenter/k3s-join.sh',
  /** Kosmos: the agent's registration cache; when present the agent skips registration (0600). */
  kosmosUserData: '/etc/scw-k8s-userdata',
  /** Kosmos: POOL_ID, POOL_REGION for the agent's systemd unit (0600). */
  kosmosEnv: '/etc/scw-karpenter/kosmos-agent.env',
  kosmosUnit: '/etc/systemd/system/scw-k8s-agent.service',
  kosmosAgentBinary: '/usr/local/bin/scw-k8s-agent',
  /** custom: the user's template, when it renders to a script (0700). */
  customScript: '/etc/scw-karpenter/bootstrap.sh',
} as const;

const taintSchema = z.object({
  key: z.string().min(1),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

export const nodeHintSchema = z.object({
  version: z.literal(1),
  mode: z.enum(['kubeadm', 'k3s', 'kosmos', 'custom']),
  nodeName: z.string().min(1),
  providerID: z.string().min(1),
  /** Labels the node registers with. */
  labels: z.record(z.string(), z.string()),
  /** Taints the node registers with. */
  taints: z.array(taintSchema),
  /** Who registers the Node: the kubelet with our flags, or Scaleway's k8s-agent with the pool's metadata (Kosmos). */
  registeredBy: z.enum(['kubelet', 'k8s-agent']),
});

export type NodeHint = z.infer<typeof nodeHintSchema>;

export function nodeHint(mode: BootstrapMode, nodeName: string, providerID: string, labels: Record<string, string>, taints: Taint[], registeredBy: NodeHint['registeredBy']): NodeHint {
  return { version: 1, mode, nodeName, providerID, labels, taints, registeredBy };
}
