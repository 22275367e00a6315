/**
 * Two readings of the machine the bench runs on, taken before anything else starts, so that
 * figures from different days can be told apart from changes in the code:
 * - what a process pays to wake up: the CPU of an empty timer callback every 5 ms. On a virtual
 *   machine a wake-up can cost far more than the little work the callback does (150–470 µs on the
 *   2-core development VM over one day, where a Python sleep loop paid 86 µs a wake-up: most likely
 *   the cold caches of a process that has just been scheduled); the stock benches count every process's
 *   wake-ups per unit of work beside its CPU;
 * - raw speed with no wake-ups at all: a small JSON round trip in a tight loop.
 */
const WAKE_INTERVAL_MS = 5;
const WAKE_SECONDS = 2;

export interface MachineReading {
  wakeUpUs: number;
  jsonRoundTripUs: number;
}

export async function readMachine(): Promise<MachineReading> {
  let ticks = 0;
  const before = process.cpuUsage();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      ticks++;
    }, WAKE_INTERVAL_MS);
    setTimeout(() => {
      clearInterval(timer);
      resolve();
    }, WAKE_SECONDS * 1000);
  });
  const woken = process.cpuUsage(before);

  const sample = { id: "0b9f3c1e-6a55-4d5e-9b38-2f1f0c6f7a11", code: "AMS-1", name: "Amsterdam", priority: 3, active: true };
  const rounds = 50_000;
  let length = 0;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) length += (JSON.parse(JSON.stringify(sample)) as typeof sample).code.length;
  const elapsedMs = performance.now() - started;
  if (length !== rounds * sample.code.length) throw new Error("the JSON round trip changed its value");

  return { wakeUpUs: (woken.user + woken.system) / Math.max(1, ticks), jsonRoundTripUs: (elapsedMs * 1000) / rounds };
}

export const describeMachine = (m: MachineReading) =>
  `This machine now: a wake-up costs ${m.wakeUpUs.toFixed(0)} µs of CPU (an empty ${WAKE_INTERVAL_MS} ms timer callback), ` +
  `a small JSON round trip ${m.jsonRoundTripUs.toFixed(2)} µs (a tight loop): compare runs of different days by their ratios, and these.`;
