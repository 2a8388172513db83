// `scw-karpenter catalog [--zone Z ...] [--all] [--output table|json]`: the GPU offerings of
// each zone as the provisioner sees them (scaleway/cloud.ts listServerTypes:
// the catalog with live prices and the availability endpoint's stock), cheapest
// first. Zones are read one after the other, each announced on stderr (a
// terminal's, or with --progress).
import { createScalewayCloud, type ServerTypeOffer } from '../scaleway/cloud.ts';
import { SCALEWAY_ZONES } from '../scaleway/instance-types.ts';
import { loadScalewaySettings, scalewayCredentials } from '../runtime/config.ts';
import { CliError, COMMON_OPTIONS, configOrUsageError, errorText, EXIT, json, outputFormat, parseCommandArgs, progressReporter, table, usageError, warn } from './output.ts';

export const CATALOG_USAGE = `usage: scw-karpenter catalog [--zone ZONE ...] [--all] [--output table|json] [--progress]
  GPU offerings per zone: type, GPUs, GPU model and memory, vCPUs, memory, €/hour, availability.
  --zone ZONE   a zone to read (repeatable; default every zone: ${SCALEWAY_ZONES.join(', ')})
  --all         every commercial type, not only those with GPUs
  -o, --output  table (default) or json: one JSON array (--json says the same)
  --progress    progress lines on stderr even when it is not a terminal`;

const GIB = 2 ** 30;

/** One offering as printed: what a NodePool requirement or a budget is written from. */
export interface CatalogRow {
  zone: string;
  commercialType: string;
  gpus: number;
  gpuType: string | undefined;
  gpuMemoryGiB: number | undefined;
  vcpus: number;
  memoryGiB: number;
  hourlyPriceEur: number;
  availability: string;
  endOfService: boolean;
}

export const catalogRow = (o: ServerTypeOffer): CatalogRow => ({
  zone: o.zone,
  commercialType: o.commercialType,
  gpus: o.gpuCount,
  gpuType: o.gpu?.name,
  gpuMemoryGiB: o.gpu ? Math.round(o.gpu.memoryBytes / GIB) : undefined,
  vcpus: o.ncpus,
  memoryGiB: Math.round(o.ramBytes / GIB),
  hourlyPriceEur: o.hourlyPriceEur,
  availability: o.availability,
  endOfService: o.endOfService,
});

export async function runCatalog(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { ...COMMON_OPTIONS, zone: { type: 'string', multiple: true }, all: { type: 'boolean' }, json: { type: 'boolean' } }, CATALOG_USAGE);
  if (values.help) {
    console.log(CATALOG_USAGE);
    return EXIT.ok;
  }
  const format = outputFormat(values.output, values.json);
  const progress = progressReporter(values.progress);
  const zones = values.zone?.length ? values.zone : [...SCALEWAY_ZONES];
  const unknown = zones.filter((z) => !(SCALEWAY_ZONES as readonly string[]).includes(z));
  if (unknown.length) throw usageError(`unknown zone ${unknown.join(', ')}: Scaleway sells Instances in ${SCALEWAY_ZONES.join(', ')}`);

  const settings = configOrUsageError(() => loadScalewaySettings());
  const cloud = createScalewayCloud(scalewayCredentials(settings));
  const rows: CatalogRow[] = [];
  const failed: string[] = [];
  for (const [i, zone] of zones.entries()) {
    progress(`[${i + 1}/${zones.length}] reading the ${zone} catalog and availability...`);
    try {
      const offers = await cloud.listServerTypes(zone);
      const kept = offers.filter((o) => values.all || o.gpuCount > 0);
      rows.push(...kept.map(catalogRow));
      progress(`[${i + 1}/${zones.length}] ${zone}: ${kept.length} ${values.all ? 'types' : 'GPU types'}`);
    } catch (err) {
      failed.push(zone);
      warn(`${zone}: reading the catalog failed: ${errorText(err)}`);
    }
  }
  rows.sort((a, b) => a.zone.localeCompare(b.zone) || a.hourlyPriceEur - b.hourlyPriceEur || a.commercialType.localeCompare(b.commercialType));
  if (format === 'json') {
    console.log(json(rows));
  } else if (rows.length) {
    console.log(table(
      ['ZONE', 'TYPE', 'GPUS', 'GPU', 'GPU MEM', 'VCPUS', 'MEMORY', 'EUR/HOUR', 'AVAILABILITY'],
      rows.map((r) => [
        r.zone, r.commercialType, r.gpus, r.gpuType ?? '-', r.gpuMemoryGiB === undefined ? '-' : `${r.gpuMemoryGiB}GiB`, r.vcpus, `${r.memoryGiB}GiB`,
        r.hourlyPriceEur.toFixed(4), `${r.availability}${r.endOfService ? ' (end of service)' : ''}`,
      ]),
    ));
  } else {
    warn('no offerings found');
  }
  if (failed.length === zones.length) throw new CliError(`could not read the catalog of any zone (${failed.join(', ')})`);
  if (failed.length) {
    warn(`incomplete: ${failed.join(', ')} could not be read`);
    return EXIT.failed;
  }
  return EXIT.ok;
}
