/**
 * Envoy's earliest-deadline-first scheduler (`source/common/upstream/edf_scheduler.h`): each member has
 * a deadline `current + 1 / weight`; a pick takes the earliest deadline (ties: the one added first),
 * moves `current` to it and re-adds the member with its weight at that moment. Over time each member is
 * picked in proportion to its weight, and a member's weight can change between its picks (Envoy's
 * weighted least request re-adds a host with `weight / (active + 1)^bias`).
 *
 * Members are scanned linearly (O(n) per pick, no allocation); fine for the tens to hundreds of backends
 * of one balancer.
 *
 * @example
 * ```ts
 * const edf = new EdfScheduler();
 * edf.reset([0, 1, 2], (i) => [5, 1, 1][i]!);
 * edf.pick((i) => [5, 1, 1][i]!); // 0
 * ```
 */
export class EdfScheduler {
  private members = new Int32Array(0);
  private deadline = new Float64Array(0);
  private order = new Float64Array(0);
  private current = 0;
  private seq = 0;

  /** How many members the scheduler holds. */
  get size(): number {
    return this.members.length;
  }

  /**
   * Starts over with `members` (backend indices), each added at time 0 with `weight(i)` > 0, in the
   * order given.
   */
  reset(members: ArrayLike<number>, weight: (index: number) => number): void {
    const n = members.length;
    let max = 0;
    for (let k = 0; k < n; k++) max = Math.max(max, members[k]! + 1);
    this.members = Int32Array.from(members as ArrayLike<number>);
    this.deadline = new Float64Array(max);
    this.order = new Float64Array(max);
    this.current = 0;
    this.seq = 0;
    for (let k = 0; k < n; k++) this.add(this.members[k]!, weight(this.members[k]!));
  }

  private add(index: number, weight: number): void {
    this.deadline[index] = this.current + 1 / weight;
    this.order[index] = this.seq++;
  }

  /** Picks the member with the earliest deadline and re-adds it with `weight(index)`; -1 when empty. */
  pick(weight: (index: number) => number): number {
    const members = this.members;
    const n = members.length;
    if (n === 0) return -1;
    const deadline = this.deadline;
    const order = this.order;
    let best = members[0]!;
    for (let k = 1; k < n; k++) {
      const i = members[k]!;
      if (deadline[i]! < deadline[best]! || (deadline[i] === deadline[best] && order[i]! < order[best]!))
        best = i;
    }
    this.current = deadline[best]!;
    this.add(best, weight(best));
    return best;
  }
}
