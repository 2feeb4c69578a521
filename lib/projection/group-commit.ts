/**
 * Group commit: items handed in together (in the same turn of the event loop, as kafkajs hands
 * out the partition batches of one fetch) run as one group, at most `slots` groups at a time, each
 * group at most `maxSize` in size (an item bigger than that runs alone). A group that fails is run
 * again item by item, so each item's error is its own: one bad partition batch does not fail the
 * others, and its failure is recorded against it alone.
 */
export interface GroupCommitOptions<I, O> {
  /** Runs a group; one result per item, in order. */
  run(items: readonly I[]): Promise<O[]>;
  /** Groups running at once (the projector: its connections). */
  slots: number;
  /** An item's size (the projector: its messages). */
  size(item: I): number;
  /** A group's size at most, unless a single item is bigger. */
  maxSize: number;
  /** Told when a group failed and is run again item by item. */
  onSplit?(error: unknown, items: number): void;
}

export interface GroupCommit<I, O> {
  submit(item: I): Promise<O>;
}

interface Waiting<I, O> {
  item: I;
  resolve(result: O): void;
  reject(error: unknown): void;
}

export function groupCommit<I, O>(options: GroupCommitOptions<I, O>): GroupCommit<I, O> {
  if (options.slots < 1) throw new Error(`group commit: slots must be at least 1, not ${options.slots}`);
  const queue: Waiting<I, O>[] = [];
  let running = 0;
  let scheduled = false;

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    // After the current turn, so that everything handed in with this item joins its group.
    setImmediate(() => {
      scheduled = false;
      drain();
    });
  }

  function drain() {
    while (running < options.slots && queue.length > 0) {
      const group = [queue.shift()!];
      let size = options.size(group[0]!.item);
      while (queue.length > 0 && size + options.size(queue[0]!.item) <= options.maxSize) {
        const next = queue.shift()!;
        size += options.size(next.item);
        group.push(next);
      }
      running += 1;
      void runGroup(group).finally(() => {
        running -= 1;
        drain();
      });
    }
  }

  async function runGroup(group: Waiting<I, O>[]) {
    try {
      const results = await options.run(group.map((w) => w.item));
      group.forEach((w, i) => w.resolve(results[i]!));
    } catch (error) {
      if (group.length === 1) {
        group[0]!.reject(error);
        return;
      }
      options.onSplit?.(error, group.length);
      await Promise.all(
        group.map(async (w) => {
          try {
            const [result] = await options.run([w.item]);
            w.resolve(result!);
          } catch (alone) {
            w.reject(alone);
          }
        }),
      );
    }
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
  };
}
