/** Seqs `after + 1` to `before - 1` are missing: fetch them with `get_messages { after }`. */
export interface SeqGap {
  readonly after: number;
  readonly before: number;
}

/**
 * Which seqs of one room are held, as sorted runs of consecutive numbers: the one
 * gapless tracker of the SDK. A room's store uses it to know what it holds; the host uses
 * it to know what it has delivered (its runs start at 0: "everything up to here"). Live
 * messages extend the last run in O(1); runs are few, so the rest stays cheap.
 */
export class SeqRuns {
  /** [start, end] pairs, ascending, never touching or overlapping. */
  private readonly runs: Array<[number, number]> = [];

  /** Holds one seq. */
  add(seq: number): void {
    this.addRange(seq, seq);
  }

  /** Holds every seq from `from` to `to`. */
  addRange(from: number, to: number): void {
    if (to < from) return;
    const runs = this.runs;
    const last = runs.at(-1);
    // The common case: a live message right after (or inside) the last run.
    if (last && from >= last[0] && from <= last[1] + 1) {
      last[1] = Math.max(last[1], to);
      return;
    }
    // Otherwise: merge every run that overlaps or touches [from, to].
    let i = 0;
    while (i < runs.length && runs[i]![1] < from - 1) i++;
    let start = from;
    let end = to;
    let j = i;
    while (j < runs.length && runs[j]![0] <= to + 1) {
      start = Math.min(start, runs[j]![0]);
      end = Math.max(end, runs[j]![1]);
      j++;
    }
    runs.splice(i, j - i, [start, end]);
  }

  /** Whether `seq` is held. */
  has(seq: number): boolean {
    return this.runs.some(([start, end]) => seq >= start && seq <= end);
  }

  /** The lowest held seq, or null when none is. */
  get lowest(): number | null {
    return this.runs[0]?.[0] ?? null;
  }

  /** The highest held seq; 0 when none is. */
  get highest(): number {
    return this.runs.at(-1)?.[1] ?? 0;
  }

  /** Every seq from the lowest held one up to this is held; 0 when none is. */
  get highestContiguous(): number {
    return this.runs[0]?.[1] ?? 0;
  }

  get hasGap(): boolean {
    return this.runs.length > 1;
  }

  /** The gaps between the lowest and highest held seqs, ascending: what to fetch. */
  gaps(): SeqGap[] {
    const gaps: SeqGap[] = [];
    for (let i = 1; i < this.runs.length; i++) gaps.push({ after: this.runs[i - 1]![1], before: this.runs[i]![0] });
    return gaps;
  }
}
