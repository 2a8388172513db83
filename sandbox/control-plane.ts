// A real Kubernetes control plane for the sandbox and the integration tests:
// etcd and kube-apiserver always; kube-controller-manager (bootstrap-token
// signer, CSR signing, garbage collection, node lifecycle) and kube-scheduler
// (binds pending pods to our nodes) when asked for.
import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { killProcess, startProcess, waitUntilReady, type ManagedProcess } from './processes.ts';
import { freePort } from './ports.ts';
import { createClusterPki, type ClusterPki } from './pki.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { toolPath, toolVersion } from './tools.ts';

export interface ControlPlaneOptions {
  dir: string;
  /** Also run kube-controller-manager and kube-scheduler (the sandbox does; most tests need not). */
  withControllers?: boolean;
  readyTimeoutMs?: number;
}

export interface ControlPlane {
  readonly server: string;
  /** Admin kubeconfig (system:masters), mode 0600. */
  readonly kubeconfig: string;
  readonly pki: ClusterPki;
  readonly versions: Record<string, string>;
  readonly processes: ManagedProcess[];
  /**
   * Stops kube-apiserver (SIGKILL when `kill`) and starts it again on the same port over the same
   * etcd data, as a control-plane upgrade or a crash would; resolves once it is ready again.
   */
  restartApiserver(options?: { kill?: boolean; downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 120_000;
export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';

function get(url: string, pki: ClusterPki, cert: { certFile: string; keyFile: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(pki.caCert), cert: readFileSync(cert.certFile), key: readFileSync(cert.keyFile), timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const dir = options.dir;
  mkdirSync(join(dir, 'pki'), { recursive: true });
  const timeout = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
  const started: ManagedProcess[] = [];
  const stopAll = async (): Promise<void> => {
    for (const p of [...started].reverse()) await p.stop();
  };
  try {
    const pki = createClusterPki(join(dir, 'pki'));
    const versions: Record<string, string> = {};

    // etcd
    const etcdClient = await freePort();
    const etcdPeer = await freePort();
    versions.etcd = toolVersion('etcd');
    const etcd = startProcess('etcd', toolPath('etcd'), [
      '--name', 'sandbox',
      '--data-dir', join(dir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${etcdClient}`,
      '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster', `sandbox=http://127.0.0.1:${etcdPeer}`,
      '--listen-metrics-urls', `http://127.0.0.1:${await freePort()}`,
      // A throwaway store: durability is not worth the fsync cost here.
      '--unsafe-no-fsync',
      '--log-level', 'warn',
    ], join(dir, 'etcd.log'));
    started.push(etcd);
    await waitUntilReady(etcd, 'etcd', timeout, async () => (await fetch(`http://127.0.0.1:${etcdClient}/health`)).ok);

    // kube-apiserver
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    versions['kube-apiserver'] = toolVersion('kube-apiserver');
    const admin = pki.clientCert('admin', 'sandbox-admin', ['system:masters']);
    const apiserverArgs = [
      '--etcd-servers', `http://127.0.0.1:${etcdClient}`,
      '--bind-address', '127.0.0.1',
      '--advertise-address', '127.0.0.1',
      '--secure-port', String(port),
      '--cert-dir', join(dir, 'apiserver-certs'),
      '--tls-cert-file', pki.servingCert,
      '--tls-private-key-file', pki.servingKey,
      '--client-ca-file', pki.caCert,
      // No aggregated APIs here; one CA keeps the authentication ConfigMap complete.
      '--requestheader-client-ca-file', pki.caCert,
      '--requestheader-allowed-names', 'front-proxy-client',
      '--requestheader-username-headers', 'X-Remote-User',
      '--requestheader-group-headers', 'X-Remote-Group',
      '--requestheader-extra-headers-prefix', 'X-Remote-Extra-',
      '--service-account-issuer', 'https://kubernetes.default.svc.cluster.local',
      '--service-account-key-file', pki.serviceAccountPub,
      '--service-account-signing-key-file', pki.serviceAccountKey,
      '--service-cluster-ip-range', SERVICE_CLUSTER_IP_RANGE,
      '--authorization-mode', 'Node,RBAC',
      '--enable-bootstrap-token-auth',
      // As in kubeadm clusters: a kubelet may only touch its own Node and the pods bound to it.
      '--enable-admission-plugins', 'NodeRestriction',
      '--allow-privileged',
      // No kubelets or service network here: nothing to reconcile endpoints for.
      '--endpoint-reconciler-type', 'none',
      '--profiling=false',
      '--v', '0',
    ];
    const launchApiserver = (): ManagedProcess => startProcess('kube-apiserver', toolPath('kube-apiserver'), apiserverArgs, join(dir, 'kube-apiserver.log'));
    const apiserverReady = (p: ManagedProcess): Promise<void> =>
      waitUntilReady(p, 'kube-apiserver', timeout, async () => (await get(`${server}/readyz`, pki, admin)).status === 200);
    // In `started` before it is ready, so that a failed start is stopped too.
    const apiserver = launchApiserver();
    started.push(apiserver);
    await apiserverReady(apiserver);
    const restartApiserver = async ({ kill = false, downMs = 0 } = {}): Promise<void> => {
      const index = started.findIndex((p) => p.name === 'kube-apiserver');
      const old = started[index];
      if (old) await (kill ? killProcess(old) : old.stop());
      if (downMs > 0) await sleep(downMs);
      const next = launchApiserver();
      started[index] = next;
      await apiserverReady(next);
    };

    const kubeconfig = join(dir, 'admin.kubeconfig');
    writeKubeconfig(kubeconfig, { server, caFile: pki.caCert, certFile: admin.certFile, keyFile: admin.keyFile, user: 'sandbox-admin' });

    if (options.withControllers) {
      // Each controller runs as its own identity, with the same serving and delegated-auth flags.
      const startComponent = async (tool: 'kube-controller-manager' | 'kube-scheduler', user: string, args: string[]): Promise<void> => {
        const cert = pki.clientCert(tool, user, []);
        const componentKubeconfig = join(dir, `${tool}.kubeconfig`);
        writeKubeconfig(componentKubeconfig, { server, caFile: pki.caCert, certFile: cert.certFile, keyFile: cert.keyFile, user });
        versions[tool] = toolVersion(tool);
        started.push(startProcess(tool, toolPath(tool), [
          '--kubeconfig', componentKubeconfig,
          '--authentication-kubeconfig', componentKubeconfig,
          '--authorization-kubeconfig', componentKubeconfig,
          '--bind-address', '127.0.0.1',
          '--secure-port', String(await freePort()),
          '--leader-elect=false',
          '--v', '0',
          // The client defaults (scheduler 50 QPS, controller-manager 20) make a 500-pod burst a
          // ten-second trickle of status writes; large clusters raise them the same way.
          '--kube-api-qps', '500',
          '--kube-api-burst', '1000',
          ...args,
        ], join(dir, `${tool}.log`)));
      };
      await startComponent('kube-controller-manager', 'system:kube-controller-manager', [
        '--use-service-account-credentials',
        // bootstrapsigner signs cluster-info for each bootstrap token (kubeadm join checks it);
        // tokencleaner removes expired tokens; the CSR controllers let bootstrap tokens become kubelet certificates.
        '--controllers', '*,bootstrapsigner,tokencleaner',
        '--cluster-signing-cert-file', pki.caCert,
        '--cluster-signing-key-file', pki.caKey,
        '--root-ca-file', pki.caCert,
        '--service-account-private-key-file', pki.serviceAccountKey,
        '--service-cluster-ip-range', SERVICE_CLUSTER_IP_RANGE,
      ]);
      await startComponent('kube-scheduler', 'system:kube-scheduler', []);
      // Pods are refused until the controller manager has made the namespace's default ServiceAccount.
      const controllerManager = started[started.length - 2];
      if (controllerManager) {
        await waitUntilReady(controllerManager, 'kube-controller-manager (default ServiceAccount)', timeout, async () =>
          (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, pki, admin)).status === 200);
      }
    }

    return { server, kubeconfig, pki, versions, processes: started, restartApiserver, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
