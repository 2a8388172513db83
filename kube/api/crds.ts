// Where the CRD manifests live, for the sandbox, the installer and the tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { loadAllYaml, type V1CustomResourceDefinition } from '@kubernetes/client-node';

const crdDir = new URL('../../deploy/crds/', import.meta.url);

export const CRD_FILES = {
  nodeClaims: fileURLToPath(new URL('karpenter.sh_nodeclaims.yaml', crdDir)),
  nodePools: fileURLToPath(new URL('karpenter.sh_nodepools.yaml', crdDir)),
  scalewayNodeClasses: fileURLToPath(new URL('karpenter.scaleway.com_scalewaynodeclasses.yaml', crdDir)),
} as const;

/** The three CRDs as plain JSON objects (for kubectl-style appliers and inspection; see loadCrdModels for client-node). */
export function loadCrds(): Record<string, unknown>[] {
  return Object.values(CRD_FILES).flatMap((file) =>
    parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`reading ${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as Record<string, unknown>;
    }),
  );
}

/**
 * The three CRDs as client-node models, for ApiextensionsV1Api. Do not pass the
 * plain objects of loadCrds() there: client-node's serializer only knows model
 * property names (x_kubernetes_validations), so it silently drops every
 * x-kubernetes-* key of a plain object, validation rules included.
 */
export function loadCrdModels(): V1CustomResourceDefinition[] {
  return Object.values(CRD_FILES).flatMap((file) => loadAllYaml(readFileSync(file, 'utf8')) as V1CustomResourceDefinition[]);
}
