// The sandbox cluster's PKI, made with the openssl CLI: a cluster CA (whose
// hash `kubeadm join` pins), the apiserver's serving certificate, client
// certificates, and the service-account signing key. Lives in a temp folder.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClientCert {
  certFile: string;
  keyFile: string;
}

export interface ClusterPki {
  dir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
  /** A client certificate with the given user and groups, signed by the CA. */
  clientCert(name: string, user: string, groups: string[]): ClientCert;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

const DAYS = '30';

export function createClusterPki(dir: string): ClusterPki {
  const file = (name: string): string => join(dir, name);
  const caKey = file('ca.key');
  const caCert = file('ca.crt');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCert, '-days', DAYS, '-subj', '/CN=scw-karpenter-sandbox-ca']);

  const sign = (name: string, subject: string, extensions: string): ClientCert => {
    const keyFile = file(`${name}.key`);
    const csr = file(`${name}.csr`);
    const certFile = file(`${name}.crt`);
    const extFile = file(`${name}.ext`);
    writeFileSync(extFile, extensions);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', subject]);
    openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', DAYS, '-extfile', extFile]);
    return { certFile, keyFile };
  };

  const serving = sign(
    'apiserver',
    '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n',
  );
  const serviceAccountKey = file('sa.key');
  const serviceAccountPub = file('sa.pub');
  openssl(['genrsa', '-out', serviceAccountKey, '2048']);
  openssl(['rsa', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPub]);

  return {
    dir,
    caCert,
    caKey,
    servingCert: serving.certFile,
    servingKey: serving.keyFile,
    serviceAccountKey,
    serviceAccountPub,
    clientCert: (name, user, groups) =>
      sign(name, `/CN=${user}${groups.map((g) => `/O=${g}`).join('')}`, 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n'),
  };
}
