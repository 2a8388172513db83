// The clients the CLI's commands talk through, built from the same settings
// as the watcher's and the worker's (runtime/config.ts): Temporal through
// envconfig, with the payload codec of the environment; Kubernetes through
// KUBECONFIG, else the in-cluster ServiceAccount, else ~/.kube/config.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createKubeRest, type KubeRest } from '../kube/rest.ts';
import { loadKubeCredentials } from '../kube/credentials.ts';
import { loadCodecKeys } from '../runtime/codec-key.ts';
import type { CodecSettings } from '../runtime/config.ts';
import { AesGcmPayloadCodec, temporalDataConverter } from '../runtime/payload-codec.ts';
import type { TemporalSettings } from '../runtime/temporal-connection.ts';
import { CliError, errorText } from './output.ts';

/** A CLI waits this long for Temporal to answer at all: a wrong address fails fast, with its name. */
const TEMPORAL_CONNECT_TIMEOUT_MS = 10_000;

export interface TemporalCli {
  client: Client;
  namespace: string;
  /** Whether payloads are decrypted: without a key, an encrypted query answer cannot be read. */
  decrypts: boolean;
  close(): Promise<void>;
}

/** A kubeconfig the user has: named by KUBECONFIG, the Pod's ServiceAccount, or the default file. */
export function kubeconfigAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KUBECONFIG) || Boolean(env.KUBERNETES_SERVICE_HOST) || existsSync(join(env.HOME || homedir(), '.kube', 'config'));
}

export function connectKube(kubeconfig: string | undefined): KubeRest {
  try {
    return createKubeRest(loadKubeCredentials(kubeconfig));
  } catch (err) {
    throw new CliError(`loading the kubeconfig${kubeconfig ? ` ${kubeconfig}` : ''}: ${errorText(err)}`);
  }
}

/** The Temporal client, decrypting with the key the worker encrypts with (PAYLOAD_CODEC_KEY, or the Secret through `kube`). */
export async function connectTemporal(settings: TemporalSettings, codec: CodecSettings, kube: () => KubeRest): Promise<TemporalCli> {
  let keys;
  try {
    keys = await loadCodecKeys(codec, kube);
  } catch (err) {
    throw new CliError(`reading the payload codec key: ${errorText(err)}`);
  }
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...settings.connection, connectTimeout: TEMPORAL_CONNECT_TIMEOUT_MS });
  } catch (err) {
    throw new CliError(`connecting to Temporal at ${settings.connection.address}: ${errorText(err)}`);
  }
  const client = new Client({ connection, namespace: settings.namespace, dataConverter: temporalDataConverter(keys && new AesGcmPayloadCodec(keys)) });
  return { client, namespace: settings.namespace, decrypts: keys !== undefined, close: () => connection.close() };
}
