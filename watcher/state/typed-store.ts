// One kind of watched object, parsed once when its watch event arrives and
// kept typed: the passes that read it never parse it again. An object that
// does not parse is left out (as each pass's safeParse used to leave it out),
// and is not parsed again until its resourceVersion changes, so the periodic
// resync of an informer costs a map lookup per object, not a parse.
import { errorMessage, log } from '../../runtime/log.ts';

const logger = log.child({ logger: 'watcher.state' });

export type WatchEvent = 'add' | 'update' | 'delete';

/** The identity fields every watched object carries, read before it is parsed. */
export interface RawMeta {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string };
}

/** What one event did to a store: the typed object before and after it (undefined when absent or unreadable). */
export interface Change<T> {
  readonly before: T | undefined;
  readonly after: T | undefined;
}

interface Entry<T> {
  /** The resourceVersion the value was parsed at: the same version is never parsed twice. */
  readonly resourceVersion: string | undefined;
  /** Undefined when the object did not parse. */
  readonly value: T | undefined;
}

/** `namespace/name` of a namespaced object (`default` when none is set), the name alone otherwise. */
export function storeKey(obj: unknown, namespaced: boolean): string {
  const meta = (obj as RawMeta | undefined)?.metadata;
  const name = meta?.name ?? '';
  return namespaced ? `${meta?.namespace ?? 'default'}/${name}` : name;
}

export class TypedStore<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** list()'s answer until the next change: a pass reads it without copying. */
  private listed: readonly T[] | undefined;

  /** `parse` returns undefined or throws for an object to leave out. */
  constructor(
    readonly kind: string,
    private readonly parse: (raw: unknown) => T | undefined,
    private readonly namespaced: boolean,
  ) {}

  /** Applies one watch event; the typed object before and after it. */
  apply(raw: unknown, event: WatchEvent): Change<T> {
    const key = storeKey(raw, this.namespaced);
    const previous = this.entries.get(key);
    if (event === 'delete') {
      if (previous) {
        this.entries.delete(key);
        this.listed = undefined;
      }
      return { before: previous?.value, after: undefined };
    }
    const resourceVersion = (raw as RawMeta | undefined)?.metadata?.resourceVersion;
    if (previous && resourceVersion !== undefined && previous.resourceVersion === resourceVersion) return { before: previous.value, after: previous.value };
    const value = this.tryParse(key, raw);
    this.entries.set(key, { resourceVersion, value });
    this.listed = undefined;
    return { before: previous?.value, after: value };
  }

  get(key: string): T | undefined {
    return this.entries.get(key)?.value;
  }

  /** Every readable object, in the order they first arrived. The array is shared: do not change it. */
  list(): readonly T[] {
    if (!this.listed) {
      const values: T[] = [];
      for (const e of this.entries.values()) if (e.value !== undefined) values.push(e.value);
      this.listed = values;
    }
    return this.listed;
  }

  get size(): number {
    return this.list().length;
  }

  private tryParse(key: string, raw: unknown): T | undefined {
    try {
      return this.parse(raw);
    } catch (err) {
      // Once per resourceVersion (the next version is parsed again); debug: the passes always skipped these quietly.
      logger.debug(`${this.kind} ${key} cannot be read and is left out`, { error: errorMessage(err) });
      return undefined;
    }
  }
}
