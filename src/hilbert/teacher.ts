/**
 * Teacher–student tasks with a known ground truth for the Hilbert-space Langevin experiments
 * (Suzuki 2020 has no experiments; this is our set-up), and the measurements the paper's theorems
 * bound: training loss, test loss, generalisation gap and excess risk against the teacher.
 *
 * The teacher is a narrow two-layer tanh network f*(x) = Σ_{m=1}^{M*} a*_m tanh(w*_mᵀx), so it lies
 * in the student's model class with a finite RKHS norm (its parameter has finitely many non-zero
 * modes). Inputs x ~ N(0, I_d).
 *   regression: y = f*(x) + σ ξ, ξ ~ N(0, 1);
 *   classification: y = 1[f*(x) > 0] with inputs kept only where |f*(x)| ≥ margin — noiseless labels
 *   with a margin, the "strong low noise" condition of the paper's Theorem 3 (Bayes risk 0).
 * Data are nested in n: the first n rows of a task with a larger n are the rows of the smaller one.
 */
import type { Dataset, Vec } from '../core/types.js';
import { foldIn, normal, split, type Key } from '../core/random.js';
import { HilbertError, integerAtLeast, positiveFinite } from './errors.js';
import { twoLayerForward, type TwoLayerNetwork } from './network.js';

/** The kind of teacher–student task. */
export type TaskKind = 'regression' | 'classification';

/** Options of {@link teacherStudentTask}. */
export interface TeacherStudentOptions {
  kind: TaskKind;
  /** n, the number of training examples. */
  n: number;
  /** The number of test examples (default 2000). */
  nTest?: number;
  /** d, the input dimension (default 5). */
  inputDim?: number;
  /** M*, the teacher's width (default 3). */
  teacherWidth?: number;
  /** σ, the regression noise sd (default 1: then β = n makes the Gibbs measure a Bayes posterior). */
  noiseSd?: number;
  /** The classification margin: inputs with |f*(x)| < margin are rejected (default 0.3). */
  margin?: number;
}

/** A generated task with its ground truth. */
export interface TeacherStudentTask {
  kind: TaskKind;
  inputDim: number;
  teacherWidth: number;
  /** The teacher's parameters in the student's layout without bias: [a*_m, w*_m] per unit. */
  teacherParams: Float64Array;
  noiseSd: number;
  margin: number;
  train: Dataset;
  test: Dataset;
  /** f*(x) on the training inputs. */
  trainSignal: Float64Array;
  /** f*(x) on the test inputs. */
  testSignal: Float64Array;
}

/** The teacher's parameters: w*_m ~ N(0, (1.5²/d) I), a*_m = (−1)^{m+1} 1.5/√m. */
function teacherParameters(key: Key, width: number, d: number): Float64Array {
  const p = d + 1;
  const params = new Float64Array(width * p);
  const z = normal(key, width * d);
  for (let m = 0; m < width; m++) {
    params[m * p] = ((m % 2 === 0 ? 1 : -1) * 1.5) / Math.sqrt(m + 1);
    for (let j = 0; j < d; j++) params[m * p + 1 + j] = (1.5 / Math.sqrt(d)) * z[m * d + j];
  }
  return params;
}

function generate(
  key: Key,
  rows: number,
  d: number,
  teacher: Float64Array,
  teacherWidth: number,
  kind: TaskKind,
  noiseSd: number,
  margin: number,
  source: string,
): { data: Dataset; signal: Float64Array } {
  const [inputKey, noiseKey] = split(key, 2);
  const x = new Float64Array(rows * d);
  const signal = new Float64Array(rows);
  const y = new Float64Array(rows);
  const one = new Float64Array(1);
  let accepted = 0;
  // Each candidate has its own key, so the accepted rows are nested in `rows`.
  for (let candidate = 0; accepted < rows; candidate++) {
    if (candidate > 1000 * rows + 10_000) {
      throw new HilbertError(`teacherStudentTask: margin ${margin} rejects almost every input (${accepted} of ${rows} after ${candidate} tries)`);
    }
    const xi = normal(foldIn(inputKey, candidate), d);
    twoLayerForward(teacher, teacherWidth, d, false, xi, one);
    if (kind === 'classification' && Math.abs(one[0]) < margin) continue;
    x.set(xi, accepted * d);
    signal[accepted] = one[0];
    accepted++;
  }
  const noise = kind === 'regression' ? normal(noiseKey, rows) : undefined;
  for (let i = 0; i < rows; i++) y[i] = noise ? signal[i] + noiseSd * noise[i] : signal[i] > 0 ? 1 : 0;
  const featureNames = Array.from({ length: d }, (_, j) => `x${j + 1}`);
  return { data: { x, y, rows, cols: d, featureNames, targetName: 'y', source }, signal };
}

/**
 * A teacher–student task from `key`: the teacher from the first split of the key, training and test
 * data from the second and third (see the module comment for the model).
 */
export function teacherStudentTask(key: Key, options: TeacherStudentOptions): TeacherStudentTask {
  const where = 'teacherStudentTask';
  const { kind } = options;
  if (kind !== 'regression' && kind !== 'classification') throw new HilbertError(`${where}: kind must be 'regression' or 'classification', got '${String(kind)}'`);
  const n = integerAtLeast(where, 'n', options.n, 1);
  const nTest = integerAtLeast(where, 'nTest', options.nTest ?? 2000, 1);
  const d = integerAtLeast(where, 'inputDim', options.inputDim ?? 5, 1);
  const teacherWidth = integerAtLeast(where, 'teacherWidth', options.teacherWidth ?? 3, 1);
  const noiseSd = positiveFinite(where, 'noiseSd', options.noiseSd ?? 1);
  const margin = options.margin ?? 0.3;
  if (!Number.isFinite(margin) || margin < 0) throw new HilbertError(`${where}: margin must be a finite number ≥ 0, got ${margin}`);
  const [teacherKey, trainKey, testKey] = split(key, 3);
  const teacherParams = teacherParameters(teacherKey, teacherWidth, d);
  const train = generate(trainKey, n, d, teacherParams, teacherWidth, kind, noiseSd, margin, `teacher-student ${kind} train (n = ${n})`);
  const test = generate(testKey, nTest, d, teacherParams, teacherWidth, kind, noiseSd, margin, `teacher-student ${kind} test`);
  return {
    kind,
    inputDim: d,
    teacherWidth,
    teacherParams,
    noiseSd,
    margin,
    train: train.data,
    test: test.data,
    trainSignal: train.signal,
    testSignal: test.signal,
  };
}

/** What {@link riskMetrics} measures. */
export interface RiskMetrics {
  /** L̂(W), the mean training loss. */
  trainLoss: number;
  /** The mean test loss, an estimate of L(W). */
  testLoss: number;
  /** testLoss − trainLoss, the generalisation gap (Suzuki 2020, Theorem 1). */
  gap: number;
  /**
   * L(W) − L(f*) against the teacher, on the test inputs (Theorems 2–3): regression ½ mean (f − f*)²
   * (exact for the loss ½(y − f)² with zero-mean noise); classification the test rate of
   * sign disagreement with f* (the 0–1 excess risk, as the Bayes risk is 0).
   */
  excessRisk: number;
  /** Test misclassification rate (classification only). */
  testError?: number;
}

/** Training loss, test loss, gap and excess risk of the network at θ on a teacher–student task. */
export function riskMetrics(network: TwoLayerNetwork, theta: Vec, task: TeacherStudentTask): RiskMetrics {
  const trainLoss = network.meanLoss(theta, task.train.x, task.train.y);
  const f = network.predict(theta, task.test.x);
  const y = task.test.y;
  let testLoss = 0;
  let excess = 0;
  for (let i = 0; i < f.length; i++) {
    if (task.kind === 'regression') {
      testLoss += 0.5 * (y[i] - f[i]) ** 2;
      excess += 0.5 * (f[i] - task.testSignal[i]) ** 2;
    } else {
      testLoss += (f[i] > 0 ? f[i] + Math.log1p(Math.exp(-f[i])) : Math.log1p(Math.exp(f[i]))) - y[i] * f[i];
      excess += f[i] > 0 !== task.testSignal[i] > 0 ? 1 : 0;
    }
  }
  testLoss /= f.length;
  const excessRisk = excess / f.length;
  const metrics: RiskMetrics = { trainLoss, testLoss, gap: testLoss - trainLoss, excessRisk };
  if (task.kind === 'classification') metrics.testError = excessRisk;
  return metrics;
}
