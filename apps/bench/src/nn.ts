/**
 * @webjax/nn on the CPU backend: the jitted forward + backward pass (valueAndGrad of softmax
 * cross-entropy) of a small CNN — conv 3×3×32 → max pool 2 → conv 3×3×64 → max pool 2 →
 * dense 10, batch 64 of 28×28×1 — against the same pass run eagerly.
 */
import { jit, np, random, valueAndGrad, type Array as WArray } from "@webjax/core";
import * as nn from "@webjax/nn";
import { medianMs } from "./timing.js";

export async function benchNn(
  report: (results: Record<string, number>, unit: string) => void,
  heading: (t: string) => void,
) {
  const model = nn.sequential(
    nn.conv2d(32, 3, { activation: "relu" }),
    nn.maxPool(2),
    nn.conv2d(64, 3, { activation: "relu" }),
    nn.maxPool(2),
    nn.flatten(),
    nn.dense(10),
  );
  const x = random.uniform(random.key(1), [64, 28, 28, 1]);
  const labels = random.randint(random.key(2), [64], 0, 10);
  const vars = model.init(random.key(0), x);
  const loss = (params: nn.Variables["params"], a: WArray, y: WArray) => {
    const [logits] = model.apply({ params, state: vars.state }, a, { train: true });
    return np.mean(nn.losses.softmaxCrossEntropyWithIntegerLabels(logits, y));
  };
  const step = valueAndGrad(loss);
  const jitted = jit(step);
  heading(
    "\nnn: small CNN forward + backward (conv 3×3×32 → pool → conv 3×3×64 → pool → dense 10), batch 64 of 28×28×1, cpu",
  );
  const results: Record<string, number> = {};
  results["webjax jit"] = await medianMs(
    async () => {
      const [l] = jitted(vars.params, x, labels);
      await l.item();
    },
    { warmup: 3, reps: 9 },
  );
  results["webjax eager"] = await medianMs(
    async () => {
      const [l] = step(vars.params, x, labels);
      await l.item();
    },
    { warmup: 2, reps: 5 },
  );
  report(results, "ms/step");
}
