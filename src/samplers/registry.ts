/**
 * A registry of the stochastic-gradient samplers, so contract tests and the CLI can run over every
 * sampler without special-casing any (DESIGN.md, "Tests": same key ⇒ same output, inputs not mutated,
 * temperature 0 ⇒ plain gradient step, finite outputs).
 */
import type { IndexBatch, Sampler, StepInfo, Target, Vec } from '../core/types.js';
import { sgld } from './sgld.js';

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
