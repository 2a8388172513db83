import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CRD_FILES,
  NODECLAIM_GVR,
  NODEPOOL_GVR,
  PRIVATE_NETWORKS_MESSAGE,
  PUBLIC_IP_NONE_MESSAGE,
  RESERVED_TAG_MESSAGE,
  TAG_PREFIX,
  tokenTTLMessage,
  SCALEWAY_NODECLASS_GVR,
  exampleNodeClaim,
  exampleNodePool,
  exampleScalewayNodeClass,
  loadCrdModels,
  loadCrds,
  parseNodeClaim,
  parseNodePool,
  parseScalewayNodeClass,
  restrictedLabelError,
  type GroupVersionResource,
} from '../../kube/api/index.ts';

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  maxItems?: number;
  maxLength?: number;
  maxProperties?: number;
  enum?: unknown[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message: string }[];
}
interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; listKind: string; shortNames?: string[]; categories?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object; scale?: { specReplicasPath: string; statusReplicasPath: string } };
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string; priority?: number }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

const crds = loadCrds() as unknown as Crd[];
const crdFor = (gvr: GroupVersionResource): Crd => {
  const crd = crds.find((c) => c.spec.group === gvr.group && c.spec.names.plural === gvr.plural);
  assert.ok(crd, `no CRD for ${gvr.plural}.${gvr.group}`);
  return crd;
};
const rootSchema = (gvr: GroupVersionResource): Schema => crdFor(gvr).spec.versions[0]!.schema.openAPIV3Schema;

/** Paths in `obj` the schema does not declare (what the API server would prune). */
function undeclared(schema: Schema, obj: unknown, path = ''): string[] {
  if (Array.isArray(obj)) return schema.items ? obj.flatMap((v, i) => undeclared(schema.items!, v, `${path}[${i}]`)) : [];
  if (typeof obj !== 'object' || obj === null || schema['x-kubernetes-int-or-string']) return [];
  if (path === '.metadata') return [];
  return Object.entries(obj).flatMap(([k, v]) => {
    const child = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    return child ? undeclared(child, v, `${path}.${k}`) : [`${path}.${k}`];
  });
}

/** Every CEL rule with the path of the schema node it sits on. */
function rules(schema: Schema, path = ''): { path: string; rule: string; message: string }[] {
  const own = (schema['x-kubernetes-validations'] ?? []).map((v) => ({ path, ...v }));
  const children = [
    ...Object.entries(schema.properties ?? {}).map(([k, s]) => rules(s, `${path}.${k}`)),
    schema.items ? rules(schema.items, `${path}[]`) : [],
    typeof schema.additionalProperties === 'object' ? rules(schema.additionalProperties, `${path}{}`) : [],
  ];
  return [...own, ...children.flat()];
}

describe('CRD manifests', () => {
  it('are three CustomResourceDefinitions named <plural>.<group>', () => {
    assert.equal(crds.length, 3);
    assert.equal(Object.keys(CRD_FILES).length, 3);
    for (const crd of crds) {
      assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
      assert.equal(crd.kind, 'CustomResourceDefinition');
      assert.equal(crd.metadata.name, `${crd.spec.names.plural}.${crd.spec.group}`);
      assert.equal(crd.spec.scope, 'Cluster');
      assert.equal(crd.spec.versions.length, 1);
      const version = crd.spec.versions[0]!;
      assert.ok(version.served && version.storage);
      assert.deepEqual(version.subresources?.status, {});
      assert.deepEqual(crd.spec.names.categories, ['karpenter']);
      assert.equal(crd.spec.names.listKind, `${crd.spec.names.kind}List`);
      assert.deepEqual(version.schema.openAPIV3Schema.required, ['spec']);
    }
  });

  it('serve the same coordinates as upstream Karpenter and our constants', () => {
    for (const gvr of [NODECLAIM_GVR, NODEPOOL_GVR, SCALEWAY_NODECLASS_GVR]) {
      const crd = crdFor(gvr);
      assert.equal(crd.spec.names.kind, gvr.kind);
      assert.equal(crd.spec.versions[0]!.name, gvr.version);
    }
    assert.equal(crdFor(NODECLAIM_GVR).spec.names.shortNames, undefined);
    assert.equal(crdFor(NODEPOOL_GVR).spec.names.shortNames, undefined);
    assert.deepEqual(crdFor(SCALEWAY_NODECLASS_GVR).spec.names.shortNames, ['scwnc']);
    assert.deepEqual(crdFor(NODEPOOL_GVR).spec.versions[0]!.subresources?.scale, { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.nodes' });
  });

  it('print the columns kubectl users know', () => {
    const columns = (gvr: GroupVersionResource) => crdFor(gvr).spec.versions[0]!.additionalPrinterColumns!.filter((c) => !c.priority).map((c) => c.name);
    assert.deepEqual(columns(NODECLAIM_GVR), ['Type', 'Capacity', 'Zone', 'Node', 'Ready', 'Age']);
    assert.deepEqual(columns(NODEPOOL_GVR), ['NodeClass', 'Nodes', 'Ready', 'Age']);
    assert.deepEqual(columns(SCALEWAY_NODECLASS_GVR), ['Ready', 'Zones', 'Image', 'Bootstrap', 'Age']);
  });

  it('declare every field of the complete examples, which our parsers keep', () => {
    const cases: [GroupVersionResource, Record<string, unknown>, (o: unknown) => unknown][] = [
      [NODECLAIM_GVR, exampleNodeClaim(), parseNodeClaim],
      [NODEPOOL_GVR, exampleNodePool(), parseNodePool],
      [SCALEWAY_NODECLASS_GVR, exampleScalewayNodeClass(), parseScalewayNodeClass],
    ];
    for (const [gvr, example, parse] of cases) {
      assert.deepEqual(undeclared(rootSchema(gvr), example), [], `${gvr.kind} example has fields the CRD lacks`);
      const parsed = parse(example) as { spec: unknown };
      // The parser drops nothing the CRD knows (its output only adds defaults).
      assert.deepEqual(undeclared(rootSchema(gvr), parsed), [], `${gvr.kind} parser adds fields the CRD lacks`);
      assert.partialDeepStrictEqual(parsed.spec, example.spec, `${gvr.kind} parser lost fields`);
    }
  });

  it('carry the restricted-label rules our restrictedLabelError mirrors', () => {
    const keyRules = (gvr: GroupVersionResource, path: string) =>
      rules(rootSchema(gvr))
        .filter((r) => r.path === path)
        .map((r) => r.message);
    const nodeClaimMessages = keyRules(NODECLAIM_GVR, '.spec.requirements[].key');
    const nodePoolMessages = keyRules(NODEPOOL_GVR, '.spec.template.spec.requirements[].key');
    const keys = ['kubernetes.io/hostname', 'foo.kubernetes.io/x', 'x.k8s.io/y', 'karpenter.sh/instance-type', 'karpenter.sh/nodepool'];
    const produced = (object: 'NodeClaim' | 'NodePool') => new Set(keys.map((k) => restrictedLabelError(k, object)).filter((m) => m !== undefined).concat(['label "kubernetes.io/hostname" is restricted']));
    assert.deepEqual(new Set(nodeClaimMessages), produced('NodeClaim'));
    assert.deepEqual(new Set(nodePoolMessages), produced('NodePool'));
    // Template labels carry the same five rules as NodePool requirement keys.
    assert.deepEqual(new Set(keyRules(NODEPOOL_GVR, '.spec.template.metadata.labels')), new Set(nodePoolMessages));
    // And the requirement-list rules are the same in both CRDs.
    const listRules = (gvr: GroupVersionResource, path: string) => rules(rootSchema(gvr)).filter((r) => r.path === path).map((r) => r.rule);
    assert.deepEqual(listRules(NODECLAIM_GVR, '.spec.requirements'), listRules(NODEPOOL_GVR, '.spec.template.spec.requirements'));
    assert.equal(listRules(NODECLAIM_GVR, '.spec.requirements').length, 3);
  });

  it('bound every list and string the ScalewayNodeClass CEL rules iterate', () => {
    const schema = rootSchema(SCALEWAY_NODECLASS_GVR);
    const unbounded: string[] = [];
    const walk = (s: Schema, path: string): void => {
      if (s.type === 'array' && s.maxItems === undefined) unbounded.push(path);
      for (const [k, child] of Object.entries(s.properties ?? {})) walk(child, `${path}.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
      if (typeof s.additionalProperties === 'object') {
        if (s.maxProperties === undefined) unbounded.push(`${path}{}`);
        walk(s.additionalProperties, `${path}{}`);
      }
    };
    walk(schema, '');
    assert.deepEqual(unbounded, []);
    const messages = rules(schema).map((r) => r.message);
    for (const mode of ['k3s', 'kosmos', 'custom']) assert.ok(messages.includes(`bootstrap.${mode} is required when bootstrap.mode is ${mode}`));
    for (const mode of ['kubeadm', 'k3s', 'kosmos', 'custom']) assert.ok(messages.includes(`bootstrap.${mode} is only allowed when bootstrap.mode is ${mode}`));
  });

  it('refuse what the parser refuses, with the same messages (privateNetworks, publicIP none, reserved tags, tokenTTL)', () => {
    const all = rules(rootSchema(SCALEWAY_NODECLASS_GVR));
    const messages = all.map((r) => r.message);
    for (const m of [PRIVATE_NETWORKS_MESSAGE, PUBLIC_IP_NONE_MESSAGE, RESERVED_TAG_MESSAGE]) assert.ok(messages.includes(m), `no CEL rule says: ${m}`);
    assert.ok(all.find((r) => r.path === '.spec.tags')?.rule.includes(`'${TAG_PREFIX}'`));
    const ttl = all.find((r) => r.rule.includes('tokenTTL')) as { messageExpression?: string } | undefined;
    // The CEL message names both values, as tokenTTLMessage does.
    assert.ok(ttl?.messageExpression?.includes(tokenTTLMessage('X', 'Y').split('X')[0]!.trim()));
    assert.ok(ttl?.messageExpression?.includes(tokenTTLMessage('X', 'Y').split('Y')[1]!));
  });

  it('default the ScalewayNodeClass fields the parser defaults, to the same values', () => {
    const spec = rootSchema(SCALEWAY_NODECLASS_GVR).properties!.spec!.properties! as Record<string, Schema & { default?: unknown }>;
    const parsed = parseScalewayNodeClass({ metadata: { name: 'd' }, spec: { bootstrap: { mode: 'kubeadm', kubeadm: {} } } });
    assert.equal(spec.publicIP!.default, parsed.spec.publicIP);
    const timeouts = spec.timeouts!.properties! as Record<string, { default?: unknown }>;
    assert.deepEqual(
      { launch: timeouts.launch!.default, registration: timeouts.registration!.default, initialization: timeouts.initialization!.default },
      parsed.spec.timeouts,
    );
    const kubeadm = spec.bootstrap!.properties!.kubeadm!.properties! as Record<string, { default?: unknown }>;
    assert.equal(kubeadm.tokenTTL!.default, parsed.spec.bootstrap.kubeadm?.tokenTTL);
  });

  it('keep their validation rules as client-node models (plain objects would lose them)', () => {
    const model = loadCrdModels().find((c) => c.spec.group === SCALEWAY_NODECLASS_GVR.group);
    const bootstrap = model?.spec.versions[0]?.schema?.openAPIV3Schema?.properties?.spec?.properties?.bootstrap;
    assert.equal(bootstrap?.x_kubernetes_validations?.length, 7);
    assert.equal(loadCrdModels().length, 3);
  });
});
