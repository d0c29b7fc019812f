// The training loop's clock: elapsed time, a smoothed loss, throughput and the
// ETA, so the loop itself only trains. Throughput is the current epoch's (its
// final figure includes validation); the ETA extrapolates this run's mean step
// time, so a resumed run does not count the steps it skipped.
export interface StepReading {
  /** Loss smoothed over the epoch's steps (EMA, 0.95). */
  loss: number;
  charsPerSec: number;
  elapsedSec: number;
  etaSec: number;
}

export class TrainMeter {
  private readonly t0 = performance.now();
  private epochStart = this.t0;
  private epochSteps = 0;
  private runSteps = 0;
  private smoothed = NaN;

  /**
   * @param charsPerStep characters in one batch (batch size × window)
   * @param stepsLeft steps between the run's first step and the last epoch's end
   */
  constructor(
    private readonly charsPerStep: number,
    private readonly stepsLeft: number,
  ) {}

  elapsedSec(): number {
    return (performance.now() - this.t0) / 1000;
  }

  startEpoch(): void {
    this.epochStart = performance.now();
    this.epochSteps = 0;
    this.smoothed = NaN;
  }

  step(loss: number): StepReading {
    this.epochSteps++;
    this.runSteps++;
    this.smoothed = Number.isNaN(this.smoothed) ? loss : 0.95 * this.smoothed + 0.05 * loss;
    const elapsedSec = this.elapsedSec();
    return {
      loss: this.smoothed,
      charsPerSec: (this.epochSteps * this.charsPerStep) / this.epochSeconds(),
      elapsedSec,
      etaSec: (elapsedSec / this.runSteps) * (this.stepsLeft - this.runSteps),
    };
  }

  /** The epoch's time and throughput, validation included. */
  endEpoch(): { seconds: number; charsPerSec: number } {
    const seconds = this.epochSeconds();
    return { seconds, charsPerSec: (this.epochSteps * this.charsPerStep) / seconds };
  }

  private epochSeconds(): number {
    return (performance.now() - this.epochStart) / 1000;
  }
}
