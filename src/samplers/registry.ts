/**
 * A registry of the stochastic-gradient samplers, so contract tests and the CLI can run over every
 * sampler without special-casing any (DESIGN.md, "Tests": same key ⇒ same output, inputs not mutated,
 * temperature 0 ⇒ plain gradient step, finite outputs).
 */
import type { IndexBatch, Sampler, StepInfo, Target, Vec } from '../core/types.js';
import { sgld } from './sgld.js';
import { constantSgd } from './constantSgd.js';
import { momentumSgd } from './momentumSgd.js';
import { iasg } from './averaging.js';
import { psgld } from './psgld.js';
import { sgfs } from './sgfs.js';
import { sghmc } from './sghmc.js';

/** The options every registered sampler accepts; entries map them onto their own options. */
export interface RegistryOptions {
  /** A constant step size ε. */
  stepSize: number;
  /** Temperature T ≥ 0 scaling the injected noise (default 1). */
  temperature?: number;
}

/** A sampler over index batches with its state and info types erased to the common contract. */
export type AnySampler = Sampler<{ position: Vec }, StepInfo, IndexBatch>;

/** One registered sampler. */
export interface SamplerEntry {
  /** Short unique name, as used on the command line (e.g. 'sgld'). */
  readonly name: string;
  /** One line: the method and the paper it comes from. */
  readonly description: string;
  /** Build the sampler for a target. */
  create(target: Target<IndexBatch>, options: RegistryOptions): AnySampler;
  /**
   * The update at temperature 0 from the first step of a fresh state, as a function of the position,
   * the minibatch gradient estimate ĝ and ε (e.g. θ + (ε/2) ĝ for SGLD); absent when the sampler has
   * no noise-free limit that is a single gradient step.
   */
  readonly zeroTemperatureStep?: (position: Vec, gradient: Vec, stepSize: number) => Vec;
}

/** Thrown when a sampler name is unknown or registered twice. */
export class SamplerRegistryError extends Error {
  override name = 'SamplerRegistryError';
}

const entries = new Map<string, SamplerEntry>();

/** Add a sampler to the registry; names are unique. */
export function registerSampler(entry: SamplerEntry): void {
  if (entries.has(entry.name)) {
    throw new SamplerRegistryError(`registerSampler: a sampler named '${entry.name}' is already registered`);
  }
  entries.set(entry.name, entry);
}

/** The registered sampler called `name`; throws, listing the known names, if there is none. */
export function getSampler(name: string): SamplerEntry {
  const entry = entries.get(name);
  if (!entry) {
    throw new SamplerRegistryError(`unknown sampler '${name}'; known samplers: ${[...entries.keys()].join(', ')}`);
  }
  return entry;
}

/** Every registered sampler, in registration order. */
export function listSamplers(): readonly SamplerEntry[] {
  return [...entries.values()];
}

registerSampler({
  name: 'sgld',
  description: 'stochastic gradient Langevin dynamics (Welling & Teh 2011)',
  create: (target, options) => sgld(target, { stepSize: options.stepSize, temperature: options.temperature ?? 1 }),
  zeroTemperatureStep: (position, gradient, stepSize) => {
    const next = new Float64Array(position.length);
    for (let i = 0; i < position.length; i++) next[i] = position[i] + (stepSize / 2) * gradient[i];
    return next;
  },
});

// Mandt, Hoffman & Blei 2017 and the SG-MCMC family. For the constant-SGD family `stepSize` is the
// learning rate ε on the loss L = −(1/N) log posterior (θ ← θ − εĝ_S = θ + (ε/N)ĝ), and `temperature`
// is ignored (there is no injected noise); their noise-free step needs N, so the contract tests
// hand-compute it instead of a `zeroTemperatureStep`.
registerSampler({
  name: 'constant-sgd',
  description: 'constant SGD with a scalar learning rate (Mandt, Hoffman & Blei 2017, Eq. 5)',
  create: (target, options) => constantSgd(target, { preconditioner: { kind: 'scalar', rate: options.stepSize } }),
});

for (const kind of ['diagonal', 'full'] as const) {
  registerSampler({
    name: kind === 'diagonal' ? 'constant-sgd-d' : 'constant-sgd-f',
    description:
      `constant SGD with the optimal ${kind} preconditioner estimated online ` +
      `(Mandt, Hoffman & Blei 2017, ${kind === 'diagonal' ? 'Corollary 3' : 'Theorem 2'}; rate stepSize for a 100-step warm-up)`,
    create: (target, options) =>
      constantSgd(target, { preconditioner: { kind: 'scalar', rate: options.stepSize }, adaptive: { kind, warmup: 100 } }),
  });
}

registerSampler({
  name: 'momentum-sgd',
  description: 'momentum SGD with learning rate stepSize and μ = 0.1 (Mandt, Hoffman & Blei 2017, Sec. 4.3)',
  create: (target, options) => momentumSgd(target, { learningRate: options.stepSize, momentum: 0.1 }),
});

registerSampler({
  name: 'iasg',
  description: 'iterate-averaged constant SGD, one sample per N/S steps (Mandt, Hoffman & Blei 2017, Algorithm 1)',
  create: (target, options) => iasg(target, { preconditioner: { kind: 'scalar', rate: options.stepSize } }),
});

registerSampler({
  name: 'psgld',
  description: 'preconditioned SGLD with the RMSprop preconditioner, α = 0.99, λ = 1e-5 (Li, Chen, Carlson & Carin 2016)',
  create: (target, options) => psgld(target, { stepSize: options.stepSize, temperature: options.temperature ?? 1 }),
});

for (const kind of ['diagonal', 'full'] as const) {
  registerSampler({
    name: kind === 'diagonal' ? 'sgfs-d' : 'sgfs-f',
    description:
      `SGFS with the optimal ${kind} preconditioner of an online noise estimate, no step cap ` +
      '(Ahn, Korattikara & Welling 2012; Mandt, Hoffman & Blei 2017, Eq. 26, Theorem 5, Corollary 6)',
    create: (target, options) => sgfs(target, { stepSize: options.stepSize, kind, temperature: options.temperature ?? 1 }),
  });
}

registerSampler({
  name: 'sghmc',
  description: 'stochastic gradient HMC with friction C = 1, B̂ = 0, M = I, momentum from rest (Chen, Fox & Guestrin 2014)',
  create: (target, options) => sghmc(target, { stepSize: options.stepSize, temperature: options.temperature ?? 1 }),
  zeroTemperatureStep: (position, gradient, stepSize) => {
    const next = new Float64Array(position.length);
    for (let i = 0; i < position.length; i++) next[i] = position[i] + stepSize * stepSize * gradient[i];
    return next;
  },
});
