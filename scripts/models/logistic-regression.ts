/**
 * Multinomial logistic regression, fitted in plain TypeScript (float64, deterministic: no randomness).
 *
 * The objective is scikit-learn's `LogisticRegression()` default after a `StandardScaler`: features are
 * standardised with the training set's mean and standard deviation, and the loss is
 *     mean cross-entropy + ‖W‖² / (2·C·n),  C = 1   (the bias is not penalised),
 * which is strongly convex, so it has one minimum whatever the optimiser. It is found, like scikit-learn
 * does by default, with L-BFGS (memory 10, backtracking Armijo line search from the full step), until the
 * gradient's norm is below `tolerance` or `maxSteps` pass.
 * The standardisation is then folded into the returned weights, so the model is `softmax(x·W + b)` on raw
 * features: one ONNX Gemm and a Softmax.
 */

export interface LogisticRegressionOptions {
  /** Inverse regularisation strength, as scikit-learn's `C`. Default 1. */
  c?: number;
  /** Stop when the gradient's Euclidean norm is below this. Default 1e-6. */
  tolerance?: number;
  /** Default 1000. */
  maxSteps?: number;
}

export interface LogisticRegression {
  /** Row-major [features, classes]: logits = x · weights + bias. */
  weights: Float64Array;
  bias: Float64Array;
  features: number;
  classes: number;
  /** Mean cross-entropy on the training set at the end (without the penalty). */
  trainLoss: number;
  /** L-BFGS steps taken, and the gradient's norm at the end. */
  steps: number;
  gradientNorm: number;
  c: number;
}

export function fitLogisticRegression(
  x: readonly (readonly number[])[],
  y: readonly number[],
  classes: number,
  options: LogisticRegressionOptions = {},
): LogisticRegression {
  const n = x.length;
  const d = x[0]?.length ?? 0;
  const k = classes;
  if (n === 0 || d === 0) throw new Error("logistic regression needs at least one example with at least one feature");
  if (y.length !== n) throw new Error(`${n} examples but ${y.length} labels`);
  for (const [i, row] of x.entries()) if (row.length !== d) throw new Error(`example ${i} has ${row.length} features, not ${d}`);
  for (const [i, c] of y.entries()) if (!Number.isInteger(c) || c < 0 || c >= k) throw new Error(`label ${c} of example ${i} is not a class index below ${k}`);
  const cReg = options.c ?? 1;
  const l2 = 1 / (cReg * n);
  const tolerance = options.tolerance ?? 1e-6;
  const maxSteps = options.maxSteps ?? 1000;

  // Standardise: z = (x - mean) / std, row-major [n, d].
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const row of x) for (let j = 0; j < d; j++) mean[j]! += row[j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  for (const row of x) for (let j = 0; j < d; j++) std[j]! += (row[j]! - mean[j]!) ** 2;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]! / n) || 1;
  const z = new Float64Array(n * d);
  x.forEach((row, i) => {
    for (let j = 0; j < d; j++) z[i * d + j] = (row[j]! - mean[j]!) / std[j]!;
  });

  const size = d * k + k; // weights [d, k] then bias [k]
  const logits = new Float64Array(k);

  /** The objective at `at` (penalty included), its gradient into `grad`, and the mean cross-entropy alone. */
  const evaluate = (at: Float64Array, grad: Float64Array): { f: number; loss: number } => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const zi = i * d;
      for (let c = 0; c < k; c++) logits[c] = at[d * k + c]!;
      for (let j = 0; j < d; j++) {
        const v = z[zi + j]!;
        const row = j * k;
        for (let c = 0; c < k; c++) logits[c]! += v * at[row + c]!;
      }
      softmaxInPlace(logits, k);
      const yi = y[i]!;
      loss -= Math.log(Math.max(logits[yi]!, 1e-300));
      logits[yi]! -= 1;
      for (let c = 0; c < k; c++) grad[d * k + c]! += logits[c]! / n;
      for (let j = 0; j < d; j++) {
        const v = z[zi + j]! / n;
        const row = j * k;
        for (let c = 0; c < k; c++) grad[row + c]! += v * logits[c]!;
      }
    }
    let penalty = 0;
    for (let q = 0; q < d * k; q++) {
      grad[q]! += l2 * at[q]!;
      penalty += at[q]! * at[q]!;
    }
    return { f: loss / n + (l2 / 2) * penalty, loss: loss / n };
  };

  const theta = new Float64Array(size);
  const grad = new Float64Array(size);
  let current = evaluate(theta, grad);
  const history: { s: Float64Array; y: Float64Array; rho: number }[] = [];
  const direction = new Float64Array(size);
  const candidate = new Float64Array(size);
  const candidateGrad = new Float64Array(size);
  const alpha = new Float64Array(MEMORY);
  let steps = 0;
  while (norm(grad) >= tolerance && steps < maxSteps) {
    // L-BFGS two-loop recursion: direction = −H·grad, H from the last MEMORY steps.
    direction.set(grad);
    for (let h = history.length - 1; h >= 0; h--) {
      const { s: sh, y: yh, rho } = history[h]!;
      alpha[h] = rho * dot(sh, direction);
      axpy(-alpha[h]!, yh, direction);
    }
    const last = history[history.length - 1];
    const gamma = last ? dot(last.s, last.y) / dot(last.y, last.y) : 1 / Math.max(norm(grad), 1);
    for (let q = 0; q < size; q++) direction[q]! *= gamma;
    for (let h = 0; h < history.length; h++) {
      const { s: sh, y: yh, rho } = history[h]!;
      const b = rho * dot(yh, direction);
      axpy(alpha[h]! - b, sh, direction);
    }
    for (let q = 0; q < size; q++) direction[q] = -direction[q]!;
    let slope = dot(grad, direction);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      history.length = 0;
      for (let q = 0; q < size; q++) direction[q] = -grad[q]!;
      slope = dot(grad, direction);
    }
    // Backtracking (Armijo) line search from the full quasi-Newton step.
    let t = 1;
    let next = current;
    for (let tries = 0; ; tries++) {
      for (let q = 0; q < size; q++) candidate[q] = theta[q]! + t * direction[q]!;
      next = evaluate(candidate, candidateGrad);
      if (next.f <= current.f + 1e-4 * t * slope || tries >= 40) break;
      t /= 2;
    }
    const s = new Float64Array(size);
    const yDiff = new Float64Array(size);
    for (let q = 0; q < size; q++) {
      s[q] = candidate[q]! - theta[q]!;
      yDiff[q] = candidateGrad[q]! - grad[q]!;
    }
    const sy = dot(s, yDiff);
    if (sy > 1e-12) {
      history.push({ s, y: yDiff, rho: 1 / sy });
      if (history.length > MEMORY) history.shift();
    }
    theta.set(candidate);
    grad.set(candidateGrad);
    current = next;
    steps++;
  }
  const trainLoss = current.loss;
  const gradientNorm = norm(grad);

  // Fold the standardisation in: x·W' + b' with W'[j] = W[j] / std[j], b' = b − Σ_j mean[j]·W'[j].
  const weights = new Float64Array(d * k);
  const bias = theta.slice(d * k);
  for (let j = 0; j < d; j++) {
    for (let c = 0; c < k; c++) {
      const v = theta[j * k + c]! / std[j]!;
      weights[j * k + c] = v;
      bias[c]! -= mean[j]! * v;
    }
  }
  return { weights, bias, features: d, classes: k, trainLoss, steps, gradientNorm, c: cReg };
}

/** Class probabilities of one example under a fitted model (float64; the ONNX export computes the same in float32). */
export function predictProba(model: LogisticRegression, x: readonly number[]): number[] {
  const { features: d, classes: k } = model;
  const out = Float64Array.from(model.bias);
  for (let j = 0; j < d; j++) for (let c = 0; c < k; c++) out[c]! += x[j]! * model.weights[j * k + c]!;
  softmaxInPlace(out, k);
  return Array.from(out);
}

function softmaxInPlace(v: Float64Array, k: number): void {
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, v[c]!);
  let sum = 0;
  for (let c = 0; c < k; c++) {
    v[c] = Math.exp(v[c]! - max);
    sum += v[c]!;
  }
  for (let c = 0; c < k; c++) v[c]! /= sum;
}

const MEMORY = 10;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let q = 0; q < a.length; q++) s += a[q]! * b[q]!;
  return s;
}

/** v += a·x */
function axpy(a: number, x: Float64Array, v: Float64Array): void {
  for (let q = 0; q < v.length; q++) v[q]! += a * x[q]!;
}

function norm(v: Float64Array): number {
  return Math.sqrt(dot(v, v));
}
