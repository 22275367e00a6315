import { describe, expect, it } from "vitest";
import { batchLanes } from "./batch-lanes.js";

/** A send that records its batches and answers each only when the test lets it. */
function gatedSend() {
  const sent: number[][] = [];
  const gates: (() => void)[] = [];
  const send = (batch: number[]) => {
    sent.push(batch);
    return new Promise<string[]>((resolve) => gates.push(() => resolve(batch.map((n) => `#${n}`))));
  };
  const openAll = async () => {
    while (gates.length > 0) {
      for (const open of gates.splice(0)) open();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { send, sent, openAll };
}

describe("batchLanes", () => {
  it("sends an item at once and alone while a lane is free", async () => {
    const { send, sent, openAll } = gatedSend();
    const lanes = batchLanes(send, { lanes: 2 });
    const a = lanes.submit(1);
    const b = lanes.submit(2);
    expect(sent).toEqual([[1], [2]]);
    await openAll();
    expect(await Promise.all([a, b])).toEqual(["#1", "#2"]);
  });

  it("sends what arrives while every lane is busy as the next batches, in order, at most maxBatch each", async () => {
    const { send, sent, openAll } = gatedSend();
    const lanes = batchLanes(send, { lanes: 1, maxBatch: 3 });
    const answers = [1, 2, 3, 4, 5, 6].map((n) => lanes.submit(n));
    expect(sent).toEqual([[1]]);
    await openAll();
    expect(sent).toEqual([[1], [2, 3, 4], [5, 6]]);
    expect(await Promise.all(answers)).toEqual(["#1", "#2", "#3", "#4", "#5", "#6"]);
    expect(lanes.stats()).toEqual({ batches: 3, items: 6 });
  });

  it("rejects every item of a batch whose send fails, and only those", async () => {
    const lanes = batchLanes(
      async (batch: number[]) => {
        if (batch.includes(2)) throw new Error("the database went away");
        return batch.map(String);
      },
      { lanes: 1 },
    );
    const [one, two, three] = [1, 2, 3].map((n) => lanes.submit(n));
    await expect(one).resolves.toBe("1");
    await expect(two).rejects.toThrow("the database went away");
    await expect(three).rejects.toThrow("the database went away");
    await expect(lanes.submit(4)).resolves.toBe("4");
  });

  it("rejects a batch whose send answers for fewer items than it was given", async () => {
    const lanes = batchLanes(async (batch: number[]) => batch.slice(1), { lanes: 1 });
    await expect(lanes.submit(1)).rejects.toThrow("a batch of 1 got 0 outcomes");
  });
});
