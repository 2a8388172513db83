// Renders a server's cloud-init for the four join modes, and reads one back.
// Pure functions: the caller (an activity, since inputs hold join secrets)
// sets the result as the server's `cloud-init` user data.
import { CLOUD_CONFIG_HEADER, fileContent, fromYaml, isMap, mergeCloudConfig, parseCloudConfig, renderCloudConfigText, writeFile, writeFilesOf, type CloudConfig } from './cloud-config.ts';
import { BootstrapError } from './errors.ts';
import { readKubeletConfiguration, readKubeletFlags, validateKubeletConfig } from './kubelet-config.ts';
import { customPart } from './modes/custom.ts';
import { k3sPart } from './modes/k3s.ts';
import { kosmosPart } from './modes/kosmos.ts';
import { kubeadmPart } from './modes/kubeadm.ts';
import type { ModeContext, ModePart } from './modes/mode.ts';
import { nodeHint, nodeHintSchema, PATHS } from './node-hint.ts';
import { isDnsLabel, providerIdFor, registrationTaints, splitNodeLabels, validateNodeRegistration } from './node-registration.ts';
import { parseEnvFile } from './shell.ts';
import type { BootstrapInput, ParsedBootstrap, RenderedBootstrap, Taint } from './types.ts';

function modePart(input: BootstrapInput, ctx: ModeContext): ModePart {
  switch (input.mode) {
    case 'kubeadm':
      return kubeadmPart(ctx, input.kubeadm);
    case 'k3s':
      return k3sPart(ctx, input.k3s);
    case 'kosmos':
      return kosmosPart(ctx, input.kosmos);
    case 'custom':
      return customPart(ctx, input.custom);
  }
  throw new BootstrapError(`unknown bootstrap mode ${JSON.stringify((input as { mode: unknown }).mode)}`);
}

function render(input: BootstrapInput): RenderedBootstrap {
  const { node } = input;
  validateNodeRegistration(node);
  validateKubeletConfig(input.kubelet);
  const providerID = providerIdFor(node.zone, node.serverId);
  const labels = splitNodeLabels(node.labels);
  const ctx: ModeContext = { node, providerID, kubeletLabels: labels.kubelet, restrictedLabels: labels.deferred, registerTaints: registrationTaints(node), kubelet: input.kubelet };
  const part = modePart(input, ctx);

  const hint = nodeHint(input.mode, node.nodeName, providerID, part.kubeletLabels, part.registerTaints, part.registeredBy);
  const ours: CloudConfig = {};
  if (isDnsLabel(node.nodeName)) Object.assign(ours, { hostname: node.nodeName, preserve_hostname: false });
  ours.write_files = [writeFile(PATHS.nodeHint, `${JSON.stringify(hint, null, 2)}\n`, '0644'), ...part.files];
  if (part.runcmd.length > 0) ours.runcmd = part.runcmd;

  const warnings = [...part.warnings];
  let doc = ours;
  if (part.base) {
    const merged = mergeCloudConfig(part.base, doc, 'custom template');
    doc = merged.doc;
    warnings.push(...merged.warnings);
  }
  if (input.userData !== undefined && input.userData.trim() !== '') {
    const merged = mergeCloudConfig(parseCloudConfig(input.userData, 'NodeClass userData'), doc, 'NodeClass userData');
    doc = merged.doc;
    warnings.push(...merged.warnings);
  }
  return {
    cloudInit: renderCloudConfigText(doc, `scw-karpenter bootstrap (${input.mode}) for node ${node.nodeName}`),
    mode: input.mode,
    nodeName: node.nodeName,
    providerID,
    kubeletLabels: part.kubeletLabels,
    deferredLabels: part.deferredLabels,
    registerTaints: part.registerTaints,
    deferredTaints: part.deferredTaints,
    providerIDAtRegistration: part.providerIDAtRegistration,
    warnings,
  };
}

/**
 * Renders the server's cloud-init and says what the controller must still do after registration
 * (labels the kubelet may not set, taints the mode cannot register with). Throws a BootstrapError
 * naming the node and mode for bad input.
 */
export function renderBootstrap(input: BootstrapInput): RenderedBootstrap {
  try {
    return render(input);
  } catch (err) {
    if (err instanceof BootstrapError) {
      throw new BootstrapError(`rendering cloud-init for node ${input.node.nodeName} (${input.mode} mode): ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** The `#cloud-config` user data alone; see `renderBootstrap` for what the controller must do after registration. */
export function renderCloudInit(input: BootstrapInput): string {
  return renderBootstrap(input).cloudInit;
}

function required(doc: CloudConfig, path: string, mode: string): string {
  const text = fileContent(doc, path);
  if (text === undefined) throw new BootstrapError(`${mode} cloud-init has no write_files entry for ${path}`);
  return text;
}

function stringField(obj: unknown, key: string, where: string): string {
  const v = isMap(obj) ? obj[key] : undefined;
  if (typeof v !== 'string' || v === '') throw new BootstrapError(`${where}: missing ${key}`);
  return v;
}

function parseLabelList(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of value.split(',')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    out[eq < 0 ? pair : pair.slice(0, eq)] = eq < 0 ? '' : pair.slice(eq + 1);
  }
  return out;
}

/** The kubeletconfiguration patches in kubeadm's patches directory, applied in file-name order as kubeadm does. */
function readKubeadmKubeletPatches(doc: CloudConfig, directory: unknown): ParsedBootstrap['kubelet'] {
  if (typeof directory !== 'string' || directory === '') return {};
  const prefix = `${directory.replace(/\/+$/, '')}/kubeletconfiguration`;
  const paths = [...new Set(writeFilesOf(doc).map((f) => f.path).filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/')))].sort();
  let out: ParsedBootstrap['kubelet'] = {};
  for (const path of paths) out = { ...out, ...readKubeletConfiguration(fromYaml(fileContent(doc, path) ?? '', `kubeadm patch ${path}`)) };
  return out;
}

/** The node identity and credentials kubeadm would use, read from the JoinConfiguration file. */
function readKubeadm(doc: CloudConfig): Pick<ParsedBootstrap, 'nodeName' | 'providerID' | 'labels' | 'taints' | 'kubeadm' | 'kubelet'> {
  const where = `JoinConfiguration ${PATHS.kubeadmJoinConfig}`;
  const join = fromYaml(required(doc, PATHS.kubeadmJoinConfig, 'kubeadm'), where);
  const discovery = isMap(join) && isMap(join.discovery) ? join.discovery.bootstrapToken : undefined;
  const reg = isMap(join) ? join.nodeRegistration : undefined;
  if (!isMap(discovery) || !isMap(reg)) throw new BootstrapError(`${where}: no discovery.bootstrapToken or nodeRegistration`);
  const hashes = discovery.caCertHashes;
  if (!Array.isArray(hashes) || !hashes.every((h) => typeof h === 'string')) throw new BootstrapError(`${where}: caCertHashes is not a list of strings`);
  const args = Array.isArray(reg.kubeletExtraArgs) ? reg.kubeletExtraArgs.filter(isMap) : [];
  const arg = (name: string): string | undefined => {
    const v = args.find((a) => a.name === name)?.value;
    return typeof v === 'string' ? v : undefined;
  };
  const providerID = arg('provider-id');
  if (!providerID) throw new BootstrapError(`${where}: no provider-id in kubeletExtraArgs`);
  const taints = (Array.isArray(reg.taints) ? reg.taints : []).filter(isMap).map((t) => {
    const taint: Taint = { key: String(t.key), effect: String(t.effect) as Taint['effect'] };
    if (typeof t.value === 'string' && t.value !== '') taint.value = t.value;
    return taint;
  });
  return {
    nodeName: stringField(reg, 'name', `${where} nodeRegistration`),
    providerID,
    labels: parseLabelList(arg('node-labels') ?? ''),
    taints,
    kubelet: readKubeadmKubeletPatches(doc, isMap(join) && isMap(join.patches) ? join.patches.directory : undefined),
    kubeadm: {
      apiServerEndpoint: stringField(discovery, 'apiServerEndpoint', where),
      token: stringField(discovery, 'token', where),
      caCertHashes: hashes,
    },
  };
}

/**
 * Reads a rendered cloud-init back: the node hint, and the join credentials of the mode from the
 * files the node would use (kubeadm's JoinConfiguration, k3s's env file, the Kosmos registration
 * cache). In kubeadm mode the identity comes from the JoinConfiguration itself, as kubeadm reads it.
 * The kubelet settings come from where each mode hands them to the kubelet (see ParsedBootstrap.kubelet).
 */
export function parseRenderedBootstrap(cloudInit: string): ParsedBootstrap {
  const firstLine = cloudInit.split('\n', 1)[0]?.trimEnd();
  if (firstLine !== CLOUD_CONFIG_HEADER) throw new BootstrapError(`not a cloud-config: the first line must be ${CLOUD_CONFIG_HEADER}`);
  const doc = parseCloudConfig(cloudInit, 'cloud-init');
  const hintText = required(doc, PATHS.nodeHint, 'scw-karpenter');
  let hintJson: unknown;
  try {
    hintJson = JSON.parse(hintText);
  } catch (err) {
    throw new BootstrapError(`node hint ${PATHS.nodeHint} is not JSON: ${(err as Error).message}`);
  }
  const checked = nodeHintSchema.safeParse(hintJson);
  if (!checked.success) throw new BootstrapError(`node hint ${PATHS.nodeHint} is malformed: ${checked.error.message}`);
  const hint = checked.data;
  const base: ParsedBootstrap = { mode: hint.mode, nodeName: hint.nodeName, providerID: hint.providerID, labels: hint.labels, taints: hint.taints, kubelet: {} };

  switch (hint.mode) {
    case 'kubeadm':
      return { ...base, ...readKubeadm(doc) };
    case 'k3s': {
      const env = parseEnvFile(required(doc, PATHS.k3sEnv, 'k3s'));
      if (!env.K3S_URL || !env.K3S_TOKEN) throw new BootstrapError(`k3s env file ${PATHS.k3sEnv} lacks K3S_URL or K3S_TOKEN`);
      return { ...base, k3s: { url: env.K3S_URL, token: env.K3S_TOKEN }, kubelet: readKubeletFlags(required(doc, PATHS.k3sJoinScript, 'k3s')) };
    }
    case 'kosmos': {
      const where = `Kosmos registration cache ${PATHS.kosmosUserData}`;
      const reg = fromYaml(required(doc, PATHS.kosmosUserData, 'kosmos'), where); // JSON is YAML
      const env = parseEnvFile(required(doc, PATHS.kosmosEnv, 'kosmos'));
      if (!env.POOL_ID || !env.POOL_REGION) throw new BootstrapError(`Kosmos env file ${PATHS.kosmosEnv} lacks POOL_ID or POOL_REGION`);
      return {
        ...base,
        kosmos: { poolId: env.POOL_ID, poolRegion: env.POOL_REGION, metadataUrl: stringField(reg, 'metadata_url', where), nodeSecretKey: stringField(reg, 'node_secret_key', where) },
        kubelet: readKubeletConfiguration(fromYaml(fileContent(doc, PATHS.kubeletDropIn) ?? '{}', `kubelet drop-in ${PATHS.kubeletDropIn}`)),
      };
    }
    case 'custom':
      // The user's template decides where the kubelet flags go: read them wherever they are.
      return { ...base, kubelet: readKubeletFlags(cloudInit) };
  }
}
