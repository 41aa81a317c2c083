/** The simulator's time: a base clock (wall clock unless given) plus whatever tests advanced it by. */
export class SimClock {
  readonly #base: () => number;
  #offset = 0;

  constructor(base: () => number = Date.now) {
    this.#base = base;
  }

  now(): number {
    return this.#base() + this.#offset;
  }

  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('time only moves forward');
    this.#offset += ms;
    return this.now();
  }
}
