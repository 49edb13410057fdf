/**
 * The eight-schools hierarchical model (Rubin 1981; Gelman et al., "Bayesian Data Analysis",
 * §5.5), non-centred, written as a custom model and sampled with NUTS:
 *
 *   μ ~ N(0, 5),  τ ~ HalfCauchy(0, 5),  θ̃_j ~ N(0, 1),  θ_j = μ + τ θ̃_j,  y_j ~ N(θ_j, σ_j).
 *
 * The posterior means of μ and τ are checked against a reference computed by quadrature: given
 * τ, μ and θ integrate out in closed form (y_j | μ, τ ~ N(μ, σ_j² + τ²)), leaving a 1-D integral
 * over τ.
 *
 *   npx tsx examples/eight-schools.ts [--chains 4] [--warmup 1000] [--draws 2000] [--seed 1]
 */
import { pathToFileURL } from 'node:url';
import { add, gather, halfCauchyLogPdf, mul, normalLogPdf, positive, sum, tensor } from '../src/autodiff/index.js';
import { essBulk, mcseMean, rhat } from '../src/diagnostics/convergence.js';
import { customModel } from '../src/models/custom.js';
import { sampleNuts } from '../src/samplers/nuts.js';

/** Treatment effects and their standard errors in the eight schools. */
export const EIGHT_SCHOOLS = {
  y: [28, 8, -3, 7, -1, 1, 18, 12],
  sigma: [15, 10, 16, 11, 9, 11, 10, 18],
} as const;

/** The non-centred eight-schools model; a batch is a list of school indices. */
export function eightSchoolsModel() {
  const y = tensor(EIGHT_SCHOOLS.y.slice());
  const sigma = tensor(EIGHT_SCHOOLS.sigma.slice());
  const schools = y.size;
  return customModel({
    name: 'eightSchools',
    params: {
      mu: {},
      tau: { constraint: positive },
      thetaTilde: { shape: schools },
    },
    logPrior: ({ mu, tau, thetaTilde }) =>
      add(add(normalLogPdf(mu, 0, 5), halfCauchyLogPdf(tau, 5)), sum(normalLogPdf(thetaTilde, 0, 1))),
    logLikelihood: ({ mu, tau, thetaTilde }, batch: Int32Array) => {
      const theta = add(mu, mul(tau, gather(thetaTilde, batch)));
      return sum(normalLogPdf(gather(y, batch), theta, gather(sigma, batch)));
    },
    dataSize: schools,
    batchSize: (batch) => batch.length,
    fullBatch: () => Int32Array.from({ length: schools }, (_, j) => j),
    sliceBatch: (batch, i) => batch.subarray(i, i + 1),
  });
}

/**
 * Exact posterior means of μ and τ by quadrature. For fixed τ, with V_j = σ_j² + τ²,
 * A = 1/25 + Σ 1/V_j and B = Σ y_j/V_j: p(y | τ) ∝ A^{−½} Π V_j^{−½} exp(B²/(2A) − ½ Σ y_j²/V_j)
 * and E[μ | τ, y] = B/A. Then p(τ | y) ∝ HalfCauchy(τ; 5) p(y | τ), integrated over τ = 5 tan φ,
 * φ ∈ (0, π/2), by Simpson's rule on `n` intervals.
 */
export function eightSchoolsReference(n = 20_000): { mu: number; tau: number } {
  const { y, sigma } = EIGHT_SCHOOLS;
  const logWeight = (tau: number): { logW: number; muGivenTau: number } => {
    let a = 1 / 25;
    let b = 0;
    let c = 0;
    let logDetV = 0;
    for (let j = 0; j < y.length; j++) {
      const v = sigma[j] * sigma[j] + tau * tau;
      a += 1 / v;
      b += y[j] / v;
      c += (y[j] * y[j]) / v;
      logDetV += Math.log(v);
    }
    const logLik = -0.5 * Math.log(a) - 0.5 * logDetV + (b * b) / (2 * a) - 0.5 * c;
    return { logW: logLik, muGivenTau: b / a };
  };
  // With τ = 5 tan φ, HalfCauchy(τ; 5) dτ ∝ dφ: the prior becomes uniform in φ.
  const h = Math.PI / 2 / n;
  const logWs = new Float64Array(n + 1);
  const taus = new Float64Array(n + 1);
  const mus = new Float64Array(n + 1);
  let maxLog = -Infinity;
  for (let i = 0; i <= n; i++) {
    const phi = Math.min(i * h, Math.PI / 2 - 1e-12);
    taus[i] = 5 * Math.tan(phi);
    const { logW, muGivenTau } = logWeight(taus[i]);
    logWs[i] = logW;
    mus[i] = muGivenTau;
    maxLog = Math.max(maxLog, logW);
  }
  let z = 0;
  let muSum = 0;
  let tauSum = 0;
  for (let i = 0; i <= n; i++) {
    const simpson = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
    const w = simpson * Math.exp(logWs[i] - maxLog);
    z += w;
    muSum += w * mus[i];
    tauSum += w * taus[i];
  }
  return { mu: muSum / z, tau: tauSum / z };
}

/** Options of {@link runEightSchools}. */
export interface EightSchoolsRunOptions {
  chains?: number;
  warmup?: number;
  draws?: number;
  seed?: number;
}

/** One posterior mean with its Monte Carlo standard error and diagnostics. */
export interface PosteriorMean {
  mean: number;
  mcse: number;
  ess: number;
  rhat: number;
  reference: number;
}

/** Sample the model with NUTS and summarise μ and τ against the quadrature reference. */
export function runEightSchools(options: EightSchoolsRunOptions = {}): {
  mu: PosteriorMean;
  tau: PosteriorMean;
  divergences: number;
} {
  const { chains = 4, warmup = 1000, draws = 2000, seed = 1 } = options;
  const model = eightSchoolsModel();
  const run = sampleNuts(model, { chains, warmup, draws, seed });
  const muChains: Float64Array[] = [];
  const tauChains: Float64Array[] = [];
  for (const chainDraws of run.draws) {
    const mu = new Float64Array(draws);
    const tau = new Float64Array(draws);
    for (let d = 0; d < draws; d++) {
      const values = model.constrain(chainDraws.subarray(d * model.dim, (d + 1) * model.dim));
      mu[d] = values.mu[0];
      tau[d] = values.tau[0];
    }
    muChains.push(mu);
    tauChains.push(tau);
  }
  const reference = eightSchoolsReference();
  const summarise = (c: Float64Array[], ref: number): PosteriorMean => ({
    mean: c.reduce((s, x) => s + x.reduce((p, v) => p + v, 0), 0) / (c.length * c[0].length),
    mcse: mcseMean(c),
    ess: essBulk(c),
    rhat: rhat(c),
    reference: ref,
  });
  const divergences = run.info.reduce((s, info) => s + info.diverging.reduce((p, v) => p + v, 0), 0);
  return { mu: summarise(muChains, reference.mu), tau: summarise(tauChains, reference.tau), divergences };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = { chains: arg('chains', 4), warmup: arg('warmup', 1000), draws: arg('draws', 2000), seed: arg('seed', 1) };
  const start = performance.now();
  const result = runEightSchools(options);
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `eight schools (non-centred), NUTS: ${options.chains} chains × ${options.draws} draws after ${options.warmup} warm-up, ${seconds.toFixed(1)} s`,
  );
  for (const [name, s] of [
    ['mu', result.mu],
    ['tau', result.tau],
  ] as const) {
    const z = (s.mean - s.reference) / s.mcse;
    console.log(
      `  ${name.padEnd(3)} posterior mean ${s.mean.toFixed(3)} ± ${s.mcse.toFixed(3)} (MCSE)   ` +
        `reference ${s.reference.toFixed(3)}   z = ${z.toFixed(2)}   ESS ${s.ess.toFixed(0)}   R-hat ${s.rhat.toFixed(3)}`,
    );
  }
  console.log(`  divergent transitions after warm-up: ${result.divergences}`);
}
