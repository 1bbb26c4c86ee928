/**
 * Work handed in while earlier work is in flight goes together in the next group, so a busy
 * process makes one database round trip for many callers. At most `parallel` groups run at once:
 * one on SQLite (a single connection), a few on PostgreSQL, where a lone serial chain leaves the
 * server idle between commits.
 */
abstract class Grouped<E> {
  private pending: E[] = [];
  private running = 0;
  private scheduled = false;

  constructor(private readonly parallel: number) {}

  protected enqueue(entry: E): void {
    this.pending.push(entry);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.parallel || !this.pending.length) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.next();
    });
  }

  private next(): void {
    if (this.running >= this.parallel || !this.pending.length) return;
    const group = this.pending;
    this.pending = [];
    this.running++;
    void this.run(group).finally(() => {
      this.running--;
      this.schedule();
    });
    this.schedule();
  }

  /** Settles every entry of the group; never rejects. */
  protected abstract run(group: E[]): Promise<void>;
}

interface Write<T> {
  rows: T[];
  resolve: (declined: T[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: rows handed in together are written in one statement. The write may decline
 * some rows (say, to a number that has opted out): each caller hears which of theirs. If a group
 * fails, each caller's rows are tried alone, so one bad row fails only its own caller.
 */
export class GroupWriter<T> extends Grouped<Write<T>> {
  constructor(
    private readonly write: (rows: T[]) => Promise<ReadonlySet<T> | undefined>,
    parallel = 1,
  ) {
    super(parallel);
  }

  /** Resolves once the rows are committed, with those the write declined (usually none). */
  add(rows: T[]): Promise<T[]> {
    return new Promise((resolve, reject) => this.enqueue({ rows, resolve, reject }));
  }

  protected async run(group: Write<T>[]): Promise<void> {
    try {
      const declined = await this.write(group.length === 1 ? group[0].rows : group.flatMap((g) => g.rows));
      for (const g of group) g.resolve(declined?.size ? g.rows.filter((r) => declined.has(r)) : []);
    } catch (err) {
      if (group.length === 1) return group[0].reject(err);
      for (const g of group) await this.write(g.rows).then((declined) => g.resolve(declined?.size ? g.rows.filter((r) => declined.has(r)) : []), g.reject);
    }
  }
}

interface Lookup<K> {
  key: K;
  resolve: (found: boolean) => void;
  reject: (err: unknown) => void;
}

/** Look-ups made together are answered by one query for all their keys. */
export class GroupLookup<K> extends Grouped<Lookup<K>> {
  constructor(
    private readonly find: (keys: K[]) => Promise<Set<K>>,
    parallel = 1,
  ) {
    super(parallel);
  }

  has(key: K): Promise<boolean> {
    return new Promise((resolve, reject) => this.enqueue({ key, resolve, reject }));
  }

  protected async run(group: Lookup<K>[]): Promise<void> {
    try {
      const found = await this.find([...new Set(group.map((g) => g.key))]);
      for (const g of group) g.resolve(found.has(g.key));
    } catch (err) {
      for (const g of group) g.reject(err);
    }
  }
}
